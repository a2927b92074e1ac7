"""The tantivy engine (package tantivy, a Rust library): every tantivy call of the project lives here.

tantivy indexes the project's own analysed terms (`indexer.analysis`, space-joined, split by its
whitespace tokenizer), so stems, stop words and phrase positions are exactly those of the whoosh
engine. The original article is stored once, as JSON, for results and snippets.

Ranking is BM25F, as close to the whoosh engine's as tantivy allows: it has no scoring hook, so the
field weights are folded into one more field, SECTIONS (see `indexer.engines.bm25f`), where each word
of the query scores once; which articles match is decided by the per-field fields as before (phrases
never cross fields). The weights folded in are recorded in the generation (`FOLDED`, kept by
updates); searched with other weights, the index adds up BM25 per field with those weights instead
(a rebuild folds them in).

Searching never writes: tantivy takes a lock file in the index folder even to read, so an index is
opened through a private folder of links to its files (`_open_read_only`), and a user who may only
read the index folder searches it as well as its owner does.
"""
from __future__ import annotations

import json
import os
import re
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import orjson
import tantivy

from ..query_tree import SEARCH_FIELDS, And, Node, Not, Or, Phrase, Term

from .. import analysis
from ..config import DEFAULT_WEIGHTS
from ..errors import IndexDamaged
from ..models import Article
from ..expansion import expand
from . import (TIE_MARGIN, Contribution, Engine, EngineHit, EngineIndex, EnginePage, Facets, Filters, bm25f,
               in_stable_order, keywords, summed_contributions, top_values)
from .bm25f import SECTIONS, field_lengths, folded_text, folded_weights, folds

HEAP_BYTES = 256 * 1024 * 1024  # the writer's memory budget, shared by its threads
_RAW = "raw"
_TERMS = "whitespace"
_DATE_DIGITS = 14  # YYYYMMDDhhmmss
DATE_SORT_SCORED = 1_000  # matches ordered exactly (by date, score, id) when sorting by date
SUBFOLDER = "tantivy"  # tantivy's own meta.json must not meet the generation's meta.json
FACET_FIELDS = {"category": "categories", "source": "source", "author": "author"}
_YEAR = 10 ** (_DATE_DIGITS - 4)  # a date key divided by this is its year
FOLDED = "tantivy-weights.json"  # in the generation folder: the weights folded into SECTIONS


def _has_field(schema_: tantivy.Schema, name: str, value: str | int = "") -> bool:
    """Whether the schema has the field (`value`: one of its type)."""
    try:
        tantivy.Query.term_query(schema_, name, value)
    except ValueError:  # "Field `...` is not defined in the schema."
        return False
    return True


def _length_field(name: str) -> str:
    """The column of a field's length in analysed terms (exact BM25F, see `TantivyIndex.field_averages`)."""
    return f"length_{name}"


def records_lengths(schema_: tantivy.Schema) -> bool:
    """Whether the index records its field lengths (not one built before they were)."""
    return _has_field(schema_, _length_field("body"), 0)


def read_folded(directory: Path) -> dict[str, int] | None:
    """The weights folded into a generation's SECTIONS, or None for an index built before them."""
    try:
        recorded = json.loads((directory / FOLDED).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IndexDamaged(f"cannot read {directory / FOLDED}: {exc}") from None
    # every field has its weight ("authors" only since authors were stored)
    if not isinstance(recorded, dict) or set(recorded) | {"authors"} != set(SEARCH_FIELDS) or not all(isinstance(v, int) for v in recorded.values()):
        raise IndexDamaged(f"{directory / FOLDED} does not list a whole weight for each field")
    return recorded


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in SEARCH_FIELDS:
        builder.add_text_field(name, tokenizer_name=_TERMS, index_option="position")
    builder.add_text_field(SECTIONS, tokenizer_name=_TERMS, index_option="freq")  # scored, never phrase-matched
    for name in ("id", "path", "source", "categories", "author"):  # keywords; the facets' as columns
        builder.add_text_field(name, tokenizer_name=_RAW, index_option="basic", fast=name in FACET_FIELDS.values())
    builder.add_integer_field("date", indexed=True, fast=True)
    for name in SEARCH_FIELDS:
        builder.add_integer_field(_length_field(name), stored=True, fast=True)
    builder.add_bytes_field("article", stored=True)
    return builder.build()


def date_key(value: str | None, upper: bool = False) -> int | None:
    """An ISO date or date-time as a sortable integer YYYYMMDDhhmmss (missing parts 0, or 9 for `upper`)."""
    if not value:
        return None
    digits = "".join(re.findall(r"\d", value))[:_DATE_DIGITS]
    if len(digits) < 4:
        return None
    return int(digits.ljust(_DATE_DIGITS, "9" if upper else "0"))


def to_json(article: Article) -> bytes:
    """The stored article as compact UTF-8 JSON, written by orjson: the same bytes as `json.dumps`
    gives, 6x faster (readers leave no lone surrogate, the one text orjson refuses, in an article)."""
    record = {
        "id": article.id, "headline": article.headline, "bullets": article.bullets, "body": article.body,
        "captions": article.captions, "date": article.date, "source": article.source, "url": article.url,
        "categories": article.categories, "path": article.path, "line": article.line, "authors": article.authors,
    }
    return orjson.dumps(record)


def from_json(data: bytes) -> Article:
    """The stored article (read by orjson: a search reads the 15 it reorders and more, 1.5x faster than with json)."""
    record = orjson.loads(data)
    for name in ("bullets", "body", "captions", "categories"):
        record[name] = tuple(record[name])
    record["authors"] = tuple(record.get("authors") or ())  # stored since authors were
    return Article(**record)


def to_document(article: Article, folded: Mapping[str, int] | None = None, authors: bool = True,
                lengths: bool = True) -> tantivy.Document:
    """The article as a tantivy document; SECTIONS only for an index that folds weights in (`folded`),
    the authors only for one that stores them (`authors`: not one built before), the field lengths
    only for one that records them (`lengths`)."""
    doc = tantivy.Document()
    sections = analysis.article_terms(article)
    held = {name: terms for name, terms in sections.items() if terms and (authors or name != "authors")}
    for name, terms in held.items():
        doc.add_text(name, terms)
    for name, size in (field_lengths(held) if lengths else {}).items():
        doc.add_integer(_length_field(name), size)
    if folded and (combined := folded_text(sections, folded)):
        doc.add_text(SECTIONS, combined)
    doc.add_text("id", article.id)
    doc.add_text("path", article.path)
    for field, values in (("source", (article.source,)), ("categories", article.categories),
                          ("author", article.authors if authors else ())):
        for name in keywords(values):
            doc.add_text(field, name)
    key = date_key(article.date)
    if key is not None:
        doc.add_integer("date", key)
    doc.add_bytes("article", to_json(article if authors else replace(article, authors=())))
    return doc


class TantivyWriter:
    """Adds articles; `replace` makes an added article replace any with the same id (updates);
    `folded`: the weights the index folds into SECTIONS (None for an index built before them)."""

    def __init__(self, folder: Path, index: tantivy.Index, replace: bool = False,
                 folded: Mapping[str, int] | None = None) -> None:
        self._folder = folder
        self._writer = index.writer(heap_size=HEAP_BYTES)
        self._replace = replace
        self._folded = folded
        self._authors = stores_authors(index.schema)
        self._lengths = records_lengths(index.schema)

    def add(self, article: Article) -> None:
        if self._replace:
            self._writer.delete_documents_by_term("id", article.id)
        self._writer.add_document(to_document(article, self._folded, self._authors, self._lengths))

    def delete_path(self, path: str) -> None:
        self._writer.delete_documents_by_term("path", path)

    def delete_ids(self, ids: Iterable[str]) -> None:
        for article_id in ids:
            self._writer.delete_documents_by_term("id", article_id)

    def commit(self) -> None:
        self._writer.commit()
        self._writer.wait_merging_threads()
        _readable_as_folder(self._folder)

    def cancel(self) -> None:
        self._writer.rollback()
        self._writer.wait_merging_threads()


class _Translator:
    """The query tree as tantivy queries; a field-less leaf becomes an OR over weighted fields.

    With `folded` weights equal to the search's (`bm25f`), `ranked` matches with that tree and scores
    with the query's distinct words in SECTIONS (BM25F); otherwise the tree's own per-field scores add up.
    """

    def __init__(self, schema_: tantivy.Schema, weights: Mapping[str, float], folded: Mapping[str, int] | None = None,
                 held: tuple[str, ...] = SEARCH_FIELDS) -> None:
        self.schema = schema_
        self.weights = weights
        self.folded = folded or {}
        self.bm25f = folds(folded, weights)
        self.held = held  # the searchable fields the index has (not "authors" if built before them)

    def ranked(self, node: Node) -> tantivy.Query:
        """The query that finds the matching articles and scores them."""
        if not self.bm25f:
            return self.query(node)
        scoring = [(tantivy.Occur.Should, query) for _, _, _, query in self.scored_words(node)]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.const_score_query(self.query(node), 0.0)),
                                            *scoring])

    def scored_words(self, node: Node) -> Iterator[tuple[str, str, str, tantivy.Query]]:
        """(field, label, index term, query) of each term that scores with BM25F: a field-less word in
        SECTIONS (weights folded in), a word given a field in that field, weighted."""
        for field, label, term, weight in bm25f.weighted_terms(node, self.weights):
            if field != SECTIONS and field not in self.held:
                continue
            query = tantivy.Query.term_query(self.schema, field, term)
            yield field, label, term, query if weight == 1.0 else tantivy.Query.boost_query(query, weight)

    def query(self, node: Node) -> tantivy.Query:
        if isinstance(node, And):
            clauses = [
                (tantivy.Occur.MustNot, self.query(i.item)) if isinstance(i, Not) else (tantivy.Occur.Must, self.query(i))
                for i in node.items
            ]
            return tantivy.Query.boolean_query(clauses)
        if isinstance(node, Or):
            return tantivy.Query.boolean_query([(tantivy.Occur.Should, self.query(i)) for i in node.items])
        if isinstance(node, Not):  # a NOT on its own (inside OR): everything but it
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, self.query(node.item))]
            )
        leaves = [query for _, query in self.field_queries(node)]
        if len(leaves) == 1:
            return leaves[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in leaves])

    def field_queries(self, node: Term | Phrase) -> list[tuple[str, tantivy.Query]]:
        """A word or phrase as one weighted query per field it is searched in."""
        fields = [node.field] if node.field else [f for f in self.held if self.weights.get(f, 0) > 0]
        return [(f, self.leaf(node, f, self.weights.get(f, 1.0) or 1.0) if f in self.held else tantivy.Query.empty_query())
                for f in fields]

    def scored_parts(self, node: Node) -> Iterator[tuple[str, str, tantivy.Query]]:
        """(field, label, query) of every scoring leaf of the tree, as `query` adds them up: a
        boolean query sums its matching clauses, NOT clauses and filters add nothing."""
        if isinstance(node, (And, Or)):
            for item in node.items:
                yield from self.scored_parts(item)
        elif isinstance(node, (Term, Phrase)):
            for field, query in self.field_queries(node):
                yield field, node.label, query

    def leaf(self, node: Term | Phrase, field: str, boost: float) -> tantivy.Query:
        if isinstance(node, Phrase):
            query = tantivy.Query.phrase_query(self.schema, field, list(node.terms), slop=node.slop)
        elif node.expanding:  # the terms `indexer.expansion` chose, each scored as the whoosh engine scores them
            # (a constant score would tie every match: no ranking, and an order that depends on storage)
            expanded = [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, field, t)) for t in node.index_terms()]
            query = tantivy.Query.boolean_query(expanded) if expanded else tantivy.Query.empty_query()
        else:
            query = tantivy.Query.term_query(self.schema, field, node.term)
        boost *= node.boost  # the word's or phrase's own weight (^N, --like), times the field's
        return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)

    def filters(self, filters: Filters) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        clauses = []
        if filters.since or filters.until:
            clauses.append((tantivy.Occur.Must, tantivy.Query.range_query(
                self.schema, "date", tantivy.FieldType.Integer,
                date_key(filters.since) or 0, date_key(filters.until, upper=True) or int("9" * _DATE_DIGITS),
            )))
        if filters.source:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "source", filters.source)))
        if filters.category:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "categories", filters.category)))
        if filters.author:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "author", filters.author)
                            if "authors" in self.held else tantivy.Query.empty_query()))
        if filters.exclude_ids:
            clauses.append((tantivy.Occur.MustNot, tantivy.Query.term_set_query(self.schema, "id", list(filters.exclude_ids))))
        return clauses


def stores_authors(schema_: tantivy.Schema) -> bool:
    """Whether an index stores authors (their words and keywords): not one built before they were."""
    return _has_field(schema_, "authors") and _has_field(schema_, "author")


def _contenders(hits: list[tuple[float, tantivy.DocAddress]], limit: int) -> list[tuple[float, tantivy.DocAddress]]:
    """Of the hits fetched `limit + TIE_MARGIN` deep, those that can be among the best `limit` once
    equal scores are ordered by id: the `limit` best and the ones tied with the last of them. Only
    these are loaded (loading and decoding an article costs more than the search: a page of 10 hits
    loaded 20 articles, a count-only search 11)."""
    if len(hits) <= limit:
        return hits
    cut = sorted((score for score, _ in hits), reverse=True)[limit - 1]
    return [(score, address) for score, address in hits if score >= cut]


def _unreadable(exc: Exception) -> IndexDamaged:
    return IndexDamaged(f"the index could not be read ({exc}); rebuild it with: search-index rebuild")


def _readable_as_folder(folder: Path) -> None:
    """tantivy writes its meta.json and .managed.json readable by their owner only (0600); they get the
    permissions the umask gave the folder, so whoever may read the index may search it."""
    mode = folder.stat().st_mode & 0o666
    for name in ("meta.json", ".managed.json"):
        if (folder / name).exists():
            os.chmod(folder / name, mode)


def _open_read_only(folder: Path) -> tuple[tantivy.Index, tantivy.Searcher]:
    """The index in `folder` opened without writing there.

    tantivy's `Index.open` takes (and creates) `.tantivy-meta.lock` in the folder it opens, which
    needs write access: a read-only user got exit 2, or an older generation. A generation's files
    never change once written, so the index is opened through a private temporary folder of links
    to them, removed as soon as the searcher is open (open files stay readable).
    """
    view = _private_folder()
    if view is None:  # no writable temporary folder: open in place (needs write access)
        index = tantivy.Index.open(str(folder))
        return index, index.searcher()
    try:
        for entry in os.scandir(folder):
            if not entry.name.endswith(".lock"):
                os.symlink(entry.path, view / entry.name)
        index = tantivy.Index.open(str(view))
        index.config_reader(reload_policy="Manual")  # a generation never changes: no thread watching meta.json
        return index, index.searcher()
    finally:
        _remove_links(view)


def _remove_links(view: Path) -> None:
    """Remove the folder of links and tantivy's lock file, again if the reader `Index.open` started
    took the lock anew meanwhile (it left 1-3 folders of 40 behind)."""
    for _ in range(3):
        with suppress(OSError):
            for entry in os.scandir(view):
                os.unlink(entry.path)
            view.rmdir()
            return


def _private_folder() -> Path | None:
    """A new folder for the links that only this user can enter, on a RAM file system where there is
    one (the user's runtime folder, /dev/shm): adding and removing 16 links on a busy disk took a cold
    search 10-50 ms. Else in the temporary folder; None if no folder can be made.

    Made as `tempfile.mkdtemp` makes one, without importing tempfile and shutil (bz2, lzma, random)
    into every search."""
    parents = [os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"]
    for parent in [p for p in parents if p and os.path.isdir(p)]:
        with suppress(OSError):
            view = Path(parent) / f"article-search-tantivy-{os.getpid()}-{os.urandom(6).hex()}"
            view.mkdir(mode=0o700)
            return view
    import tempfile  # no RAM file system

    try:
        return Path(tempfile.mkdtemp(prefix="article-search-tantivy-"))
    except OSError:
        return None


class TantivyIndex(EngineIndex):
    """An open tantivy generation; one searcher reused across queries (a generation never changes)."""

    capabilities = frozenset({"explain", "similar_terms", "article", "concurrent", "facets"})

    def __init__(self, directory: Path) -> None:
        try:
            self._index, self._searcher = _open_read_only(directory / SUBFOLDER)
            segments = json.loads((directory / SUBFOLDER / "meta.json").read_bytes())["segments"]
        except Exception as exc:  # tantivy raises ValueError/OSError-like errors on damaged files
            raise IndexDamaged(f"cannot open the index at {directory}: {exc}") from None
        self._schema = self._index.schema
        self._nothing_deleted = sum(int(s.get("max_doc", 0)) for s in segments) == self._searcher.num_docs
        self._folded = read_folded(directory) if _has_field(self._schema, SECTIONS) else None
        self.searchable = SEARCH_FIELDS if stores_authors(self._schema) else tuple(f for f in SEARCH_FIELDS if f != "authors")
        # an article holds a term in SECTIONS exactly when it holds it in a field folded into it
        self._sections_hold_all = self._folded is not None and all(self._folded.get(f, 0) > 0 for f in self.searchable)
        self._averages: dict[str, float] | None = None
        self._lengths = self._folded is not None and records_lengths(self._schema)

    def _hit(self, doc: tantivy.Document, score: float) -> EngineHit:
        lengths = {name: int(doc.get_first(_length_field(name)) or 0) for name in self.searchable} if self._lengths else None
        return EngineHit(from_json(doc.get_first("article")), score, lengths=lengths)

    def field_averages(self) -> Mapping[str, float] | None:
        """Averaged once per open generation from the length columns (tantivy's own BM25 is of SECTIONS)."""
        if self._averages is None and self._lengths:
            answer = self._searcher.aggregate(tantivy.Query.all_query(), {
                name: {"avg": {"field": _length_field(name)}} for name in self.searchable})
            self._averages = {name: float(answer[name]["value"]) for name in self.searchable if answer[name]["value"]}
        return self._averages

    def doc_count(self) -> int:
        return self._searcher.num_docs

    def doc_frequency(self, term: str, field: str | None = None) -> int:
        """Articles holding the term, counted by a query (tantivy's term dictionary counts per field
        and keeps deleted articles until segments merge). With nothing deleted, the dictionary's count
        of one field is exact and 70x faster: of that field, or of SECTIONS when every field is in it."""
        if self._nothing_deleted and (field in self.searchable if field else self._sections_hold_all):
            try:
                return int(self._searcher.doc_freq(field or SECTIONS, term))
            except (ValueError, OSError) as exc:
                raise _unreadable(exc) from None
        fields = [f for f in ((field,) if field else self.searchable) if f in self.searchable]
        query = tantivy.Query.boolean_query([(tantivy.Occur.Should, tantivy.Query.term_query(self._schema, f, term)) for f in fields])
        try:
            return int(self._searcher.search(query, 1, count=True).count or 0)
        except (ValueError, OSError) as exc:
            raise _unreadable(exc) from None

    def counts_exact(self) -> bool:
        return self._nothing_deleted

    def terms_with_prefix(self, field: str, prefix: str) -> list[tuple[str, int]]:
        if field not in self.searchable:
            return []
        try:
            return self._searcher.terms_with_prefix(field, prefix)
        except (ValueError, OSError) as exc:
            raise _unreadable(exc) from None

    def article(self, article_id: str) -> Article | None:
        try:
            result = self._searcher.search(tantivy.Query.term_query(self._schema, "id", article_id), 1)
            return from_json(self._searcher.doc(result.hits[0][1]).get_first("article")) if result.hits else None
        except (ValueError, OSError, KeyError, TypeError) as exc:
            raise _unreadable(exc) from None

    def search(self, root: Node, weights: Mapping[str, float], limit: int, filters: Filters | None = None,
               sort_by_date: bool = False, explain: bool = False) -> EnginePage:
        root = expand(root, self)
        translator = _Translator(self._schema, weights, self._folded, self.searchable)
        query = self._restricted(translator, translator.ranked(root), filters)
        try:
            by_field = False  # tantivy's date order: a hit's "score" is then its date, not a score
            if sort_by_date:
                # every match scored, then ordered by date, score and id, as the whoosh engine orders
                # them (tantivy's date order leaves equal dates, and all undated articles, in storage
                # order); past DATE_SORT_SCORED matches, tantivy's date order with a margin for ties
                result = self._searcher.search(query, limit=DATE_SORT_SCORED, count=True)
                by_field = (result.count or 0) > DATE_SORT_SCORED
                if by_field:
                    result = self._searcher.search(query, limit=limit + TIE_MARGIN, count=True, order_by_field="date",
                                                   order=tantivy.Order.Desc)
            else:
                result = self._searcher.search(query, limit=limit + TIE_MARGIN, count=True)
            hits = result.hits if sort_by_date else _contenders(result.hits, limit)
            found = [(self._hit(self._searcher.doc(address), 0.0 if by_field else float(score)), address)
                     for score, address in hits]
            kept = in_stable_order((hit for hit, _ in found), limit, sort_by_date)
            if explain:
                where = {id(hit): address for hit, address in found}
                kept = tuple(hit._replace(explanation=self._explain(translator, root, hit, where[id(hit)])) for hit in kept)
        except (ValueError, OSError, KeyError, TypeError) as exc:
            raise _unreadable(exc) from None
        return EnginePage(result.count or 0, kept)

    @staticmethod
    def _restricted(translator: _Translator, query: tantivy.Query, filters: Filters | None) -> tantivy.Query:
        """The text query, restricted by the filters (they score a constant 0: only the words score)."""
        if filters:
            restrictions = [(occur, tantivy.Query.const_score_query(q, 0.0)) for occur, q in translator.filters(filters)]
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), *restrictions])
        return query

    def facets(self, root: Node, weights: Mapping[str, float], filters: Filters | None, names: Iterable[str],
               size: int) -> Facets:
        """tantivy's aggregations over the matches: a terms aggregation per keyword column, a histogram of
        the date keys by year. An index built before source and categories were columns counts each of
        their values with a query instead."""
        translator = _Translator(self._schema, weights, held=self.searchable)
        query = self._restricted(translator, translator.query(expand(root, self)), filters)
        asked = list(names)
        names = [name for name in asked if name != "author" or "authors" in self.searchable]  # none before authors were stored
        try:
            found = self._counts(query, names, size)
        except (ValueError, OSError, KeyError, TypeError) as exc:
            raise _unreadable(exc) from None
        return {name: found.get(name, {}) for name in asked}

    def _counts(self, query: tantivy.Query, names: list[str], size: int) -> Facets:
        try:
            return self._aggregated(query, names, size)
        except ValueError as exc:
            if "not configured as fast field" not in str(exc):
                raise
        found = self._aggregated(query, [name for name in names if name == "year"], size)
        return {name: found[name] if name == "year" else self._counted(query, FACET_FIELDS[name], size) for name in names}

    def _aggregated(self, query: tantivy.Query, names: list[str], size: int) -> Facets:
        aggregations = {
            name: {"histogram": {"field": "date", "interval": _YEAR, "min_doc_count": 1}} if name == "year" else
            {"terms": {"field": FACET_FIELDS[name], "size": size, "segment_size": max(size, 65_535)}} for name in names}
        answer = self._searcher.aggregate(query, aggregations) if names else {}
        return {name: top_values({(str(int(b["key"]) // _YEAR) if name == "year" else b["key"]): int(b["doc_count"])
                                  for b in answer[name]["buckets"]}, size) for name in names}

    def _counted(self, query: tantivy.Query, field: str, size: int) -> dict[str, int]:
        """A keyword facet of an index without that column: one count query per value of the field."""
        counts = {}
        for value, _ in self._searcher.terms_with_prefix(field, ""):
            restricted = tantivy.Query.term_query(self._schema, field, value)
            both = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, restricted)])
            counts[value] = int(self._searcher.search(both, 1, count=True).count or 0)
        return top_values({value: count for value, count in counts.items() if count}, size)

    def _explain(self, translator: _Translator, root: Node, hit: EngineHit, address: tantivy.DocAddress) -> tuple[Contribution, ...]:
        """What each word added in each field: tantivy explains each weighted part for this document
        (a part that does not match it adds nothing); the parts add up to the hit's score. A word's
        score in SECTIONS is split over the fields as its weighted frequencies make it up."""
        def value(query: tantivy.Query) -> float:
            try:
                return float(json.loads(query.explain(self._searcher, address).to_json())["value"])
            except ValueError:  # "Document ... does not match"
                return 0.0

        if not translator.bm25f:
            return summed_contributions((field, label, value(query)) for field, label, query in translator.scored_parts(root))
        parts = ((field, label, term, value(query)) for field, label, term, query in translator.scored_words(root))
        return summed_contributions(bm25f.split_sections(parts, analysis.article_terms(hit.article), translator.folded))

    def close(self) -> None:
        self._searcher = None  # type: ignore[assignment]
        self._index = None  # type: ignore[assignment]


class TantivyEngine(Engine):
    """Builds fold `weights` (the configured ones) into SECTIONS; updates keep what the index folded."""

    name = "tantivy"

    def __init__(self, weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> None:
        self.folded = folded_weights(weights)

    def create(self, directory: Path) -> TantivyWriter:
        (directory / SUBFOLDER).mkdir()
        index = tantivy.Index(schema(), path=str(directory / SUBFOLDER))
        folded = self.folded if _has_field(index.schema, SECTIONS) else None
        if folded is not None:
            (directory / FOLDED).write_text(json.dumps(folded), encoding="utf-8")
        return TantivyWriter(directory / SUBFOLDER, index, folded=folded)

    def update(self, directory: Path) -> TantivyWriter:
        try:
            index = tantivy.Index.open(str(directory / SUBFOLDER))
        except Exception as exc:
            raise IndexDamaged(f"cannot open the index at {directory}: {exc}") from None
        return TantivyWriter(directory / SUBFOLDER, index, replace=True, folded=read_folded(directory))

    def open(self, directory: Path) -> TantivyIndex:
        return TantivyIndex(directory)


ENGINE = TantivyEngine()


def engine_for(config: Any) -> TantivyEngine:
    """The engine folding the configured field weights into the indexes it builds."""
    return TantivyEngine(config.weights)
