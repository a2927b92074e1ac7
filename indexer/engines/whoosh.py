"""The whoosh engine (package whoosh-reloaded): every whoosh call of the project lives here."""
from __future__ import annotations

import os
import pickle
import struct
import zlib
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import RegexTokenizer, Tokenizer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.util.numeric import byte_to_length

from ..query_tree import SEARCH_FIELDS, And, Node, Not, Or, Phrase, within_slop

from .. import analysis
from ..children import die_with_parent
from ..errors import IndexDamaged
from ..models import Article
from ..parallel import default_workers
from ..expansion import expand
from . import (TIE_MARGIN, Engine, EngineHit, EngineIndex, EnginePage, Facets, Filters, bm25f,
               in_stable_order, keywords, top_values, year_of)

LIST_SEPARATOR = "\n"


class AnalysedTermsTokenizer(Tokenizer):
    """Splits text that `indexer.analysis` already reduced to space-joined terms.

    Analysis happens once per article, possibly in a parser process (`indexer.parallel`); the
    original text is stored beside the terms (`_stored_<field>`) for snippets.
    """

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnalysedTermsTokenizer)

    def __hash__(self) -> int:
        return hash(AnalysedTermsTokenizer)

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: Any) -> Iterator[WhooshToken]:
        token = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.boost = 1.0
        token.stopped = False
        words = value.split() if tokenize else [value]
        for position, word in enumerate(words, start_pos):
            token.text = word
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = position
            if chars:  # offsets are not kept: snippets are cut from the stored text
                token.startchar = token.endchar = start_char
            yield token


class KeywordLines(KEYWORD):
    """Keywords one per line, each indexed whole (`indexer.engines.keyword`: a keyword holds no line
    break, and may hold a comma, which whoosh's own KEYWORD field would split on)."""

    def __init__(self, stored: bool = True) -> None:
        super().__init__(stored=stored)
        self.analyzer = RegexTokenizer(r"[^\n]+")


def schema() -> Schema:
    text = dict(analyzer=AnalysedTermsTokenizer(), stored=True, phrase=True)
    return Schema(
        id=ID(stored=True, unique=True),
        path=ID(stored=True),
        line=STORED,
        headline=TEXT(**text),
        bullets=TEXT(**text),
        body=TEXT(**text),
        captions=TEXT(**text),
        authors=TEXT(**text),  # the names as words (stored as given, one per line)
        date=ID(stored=True, sortable=True),
        source=KeywordLines(),
        categories=KeywordLines(),
        author=KeywordLines(stored=False),  # each whole name a keyword, for the filter and the facet
        url=STORED,
    )


def to_fields(article: Article) -> dict[str, Any]:
    """whoosh fields: analysed terms and keywords indexed, the original text stored (`_stored_<field>`)."""
    fields: dict[str, Any] = {"id": article.id, "path": article.path}
    for name in ("line", "date", "url"):
        fields[name] = getattr(article, name)
    for name, values in (("source", (article.source,)), ("categories", article.categories)):
        fields[name] = "\n".join(keywords(values))
        fields[f"_stored_{name}"] = getattr(article, name)
    fields["author"] = "\n".join(keywords(article.authors))
    fields = {k: v for k, v in fields.items() if v is not None and v != ""}
    for name, terms in analysis.article_terms(article).items():
        text = LIST_SEPARATOR.join(article.section_text(name))
        if text:  # stored even when no term is left (a caption of stop words)
            fields[name] = terms
            fields[f"_stored_{name}"] = text
    return fields


def from_fields(stored: Mapping[str, Any]) -> Article:
    def split(name: str) -> tuple[str, ...]:
        text = stored.get(name) or ""
        return tuple(text.split(LIST_SEPARATOR)) if text else ()

    return Article(
        id=stored["id"], headline=stored.get("headline", ""), bullets=split("bullets"), body=split("body"),
        captions=split("captions"), date=stored.get("date"), source=stored.get("source"), url=stored.get("url"),
        categories=_categories(stored.get("categories")),
        path=stored.get("path", ""), line=stored.get("line"), authors=split("authors"),
    )


def _categories(stored: Any) -> tuple[str, ...]:
    """The categories as given (stored as a tuple; as comma-joined text by indexes built before)."""
    if isinstance(stored, (tuple, list)):
        return tuple(stored)
    return tuple(c for c in (stored or "").split(",") if c)


class WhooshWriter:
    """Adds articles; `replace` makes an added article replace any with the same id (updates).

    A build of at least `PARALLEL_FROM` articles uses whoosh's multiprocessing writer (`procs`
    sub-writers, their segments merged into one at commit); smaller ones are not worth the forks,
    so the first articles wait in a list until the size is known.
    """

    PARALLEL_FROM = 2_000

    def __init__(self, ix: Any, procs: int = 1, replace: bool = False) -> None:
        self._ix = ix
        self._procs = procs
        self._replace = replace
        missing = {"authors", "author"} - set(ix.schema.names())  # an index built before authors were stored
        self._unknown = missing | {f"_stored_{name}" for name in missing}  # is updated without them
        self._pending: list[dict[str, Any]] | None = [] if procs > 1 and not replace else None
        self._writer: Any = None if self._pending is not None else self._open(1)

    def _open(self, procs: int) -> Any:
        # compound=False: whoosh opens a compound segment by copying each part into memory
        # (BytesIO over the mmap), which made opening a large index take most of a cold query
        options: dict[str, Any] = {"limitmb": 256, "compound": False}
        return _ParallelWriter(self._ix, procs=procs, multisegment=False, **options) if procs > 1 else self._ix.writer(**options)

    def _start(self, procs: int) -> None:
        pending, self._pending = self._pending or [], None
        self._writer = self._open(procs)
        for fields in pending:
            self._writer.add_document(**fields)

    def add(self, article: Article) -> None:
        fields = to_fields(article)
        if self._unknown:
            fields = {name: value for name, value in fields.items() if name not in self._unknown}
        if self._pending is not None:
            self._pending.append(fields)
            if len(self._pending) >= self.PARALLEL_FROM:
                self._start(self._procs)
        elif self._replace:
            self._writer.update_document(**fields)
        else:
            self._writer.add_document(**fields)

    def delete_path(self, path: str) -> None:
        if self._pending is not None:
            self._start(1)
        self._writer.delete_by_term("path", path)

    def delete_ids(self, ids: Iterable[str]) -> None:
        if self._pending is not None:
            self._start(1)
        for article_id in ids:
            self._writer.delete_by_term("id", article_id)

    def commit(self) -> None:
        if self._pending is not None:
            self._start(1)
        self._writer.commit()

    def cancel(self) -> None:
        if self._writer is not None:
            self._writer.cancel()


class _SubWriter(SubWriterTask):
    """whoosh's sub-writer process, made to die with the run that forked it (indexer.children)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._parent = os.getpid()

    def run(self) -> None:
        die_with_parent(self._parent)
        super().run()


class _ParallelWriter(MpWriter):
    """whoosh's multiprocessing writer whose sub-writers die with the run, and end when it is cancelled
    (whoosh leaves them waiting for work, so the run could not even exit)."""

    def _new_task(self) -> SubWriterTask:
        task = _SubWriter(self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, self.multisegment)
        self.tasks.append(task)
        task.start()
        return task

    def cancel(self) -> None:
        try:
            super().cancel()
        finally:
            self.jobqueue.cancel_join_thread()  # queued work is dropped, not flushed to dead readers at exit
            for task in self.tasks:
                task.kill()
                task.join()


class _Postings:
    """A term's postings per leaf segment as (global doc numbers, term frequencies) arrays, cached.

    Reads whoosh's posting blocks directly (ids and weights of a block at once); going through the
    generic matcher one posting at a time costs ten times more in Python.
    """

    def __init__(self, reader: Any, max_cached: int = 4_000_000) -> None:
        self._leaves = list(reader.leaf_readers())
        self._cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._cached = 0  # postings held (16 bytes each): the cache stays under ~64 MB
        self._max_cached = max_cached

    def get(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        key = (field, term)
        found = self._cache.pop(key, None)
        if found is None:
            found = self._read(field, term)
            self._cached += found[0].size
            while self._cached > self._max_cached and self._cache:  # drop the least recently used
                self._cached -= self._cache.pop(next(iter(self._cache)))[0].size
        self._cache[key] = found
        return found

    def _read(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        ids: list[int] = []
        tfs: list[float] = []
        for leaf, offset in self._leaves:
            if (field, term) not in leaf:
                continue
            matcher = leaf.postings(field, term)
            deleted = leaf.deleted_docs_set if leaf.has_deletions() else None
            raw = getattr(matcher, "child", matcher) if deleted else matcher
            leaf_ids, leaf_tfs = _read_blocks(raw) if hasattr(raw, "_read_ids") else _read_items(raw)
            if deleted:
                kept = [i for i, d in enumerate(leaf_ids) if d not in deleted]
                leaf_ids, leaf_tfs = [leaf_ids[i] for i in kept], [leaf_tfs[i] for i in kept]
            ids.extend(d + offset for d in leaf_ids) if offset else ids.extend(leaf_ids)
            tfs.extend(leaf_tfs)
        return np.asarray(ids, dtype=np.int64), np.asarray(tfs, dtype=np.float64)


def _read_blocks(matcher: Any) -> tuple[list[int], list[float]]:
    ids: list[int] = []
    tfs: list[float] = []
    while matcher.is_active():
        matcher._read_ids()
        matcher._read_weights()
        ids.extend(matcher._ids)
        tfs.extend(matcher._weights)
        matcher._next_block()
    return ids, tfs


def _read_items(matcher: Any) -> tuple[list[int], list[float]]:
    ids: list[int] = []
    tfs: list[float] = []
    while matcher.is_active():
        ids.append(matcher.id())
        tfs.append(matcher.weight())
        matcher.next()
    return ids, tfs


class _Columns:
    """Per-document arrays read once per open index: alive docs, field length norms, dates."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self.size = reader.doc_count_all()
        self._norms: dict[str, np.ndarray] = {}
        self._dates: np.ndarray | None = None
        alive = np.ones(self.size, dtype=bool)
        for leaf, offset in reader.leaf_readers():
            if leaf.has_deletions():
                alive[np.fromiter(leaf.deleted_docs_set, dtype=np.int64) + offset] = False
        self.alive = alive

    def norm(self, field: str) -> np.ndarray:
        if field not in self._norms:
            lengths = np.zeros(self.size)
            for leaf, offset in self._reader.leaf_readers():
                count = leaf.doc_count_all()
                lengths[offset:offset + count] = _field_lengths(leaf, field, count)
            self._norms[field] = bm25f.length_norm(lengths)
        return self._norms[field]

    def dates(self) -> np.ndarray:
        """Each document's date string ("" when it has none)."""
        if self._dates is None:
            values = list(self._reader.column_reader("date")) if self._reader.has_column("date") else [b""] * self.size
            self._dates = np.array([v.decode() if isinstance(v, bytes) else (v or "") for v in values], dtype=str)
        return self._dates


_BYTE_TO_LENGTH = np.array([byte_to_length(i) for i in range(256)], dtype=np.float64)


def _field_lengths(leaf: Any, field: str, count: int) -> np.ndarray:
    """A segment's field lengths from its length column (whoosh stores them as one byte each)."""
    perdoc = getattr(leaf, "_perdoc", None)
    try:
        column = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)  # type: ignore[union-attr]
        if column is None:  # no document has the field (no column written): every length is 0
            return np.zeros(count)
        if getattr(column, "_fixedlen", 0) == 1:  # read the one-byte codes at once, not doc by doc
            codes = np.zeros(count, dtype=np.int64)
            stored = min(column._count, count)
            codes[:stored] = np.frombuffer(column._dbfile.get(column._basepos, stored), dtype=np.uint8)
            return _BYTE_TO_LENGTH[codes]
        return _BYTE_TO_LENGTH[np.fromiter(column, dtype=np.int64, count=count)]
    except (AttributeError, TypeError, ValueError):
        pass
    return np.array([leaf.doc_field_length(d, field) for d in range(count)], dtype=np.float64)


def _filter_mask(filters: Filters, columns: _Columns, postings: _Postings) -> np.ndarray:
    """Documents allowed by the filters (dates compare as ISO strings; `until` includes its day)."""
    allowed = columns.alive.copy()
    if filters.since or filters.until:
        dates = columns.dates()
        has_date = dates != ""
        if filters.since:
            has_date &= dates >= filters.since
        if filters.until:
            has_date &= dates <= filters.until + "\uffff"
        allowed &= has_date.astype(bool)
    for field, value in (("source", filters.source), ("categories", filters.category), ("author", filters.author)):
        if value:
            only = np.zeros(columns.size, dtype=bool)
            only[postings.get(field, value)[0]] = True  # a keyword already (see Filters)
            allowed &= only
    for article_id in filters.exclude_ids:
        allowed[postings.get("id", article_id)[0]] = False
    return allowed


# What truncated, garbled or missing files raise inside a whoosh read (also a bare Exception("Block tag error")).
READ_ERRORS = (OSError, EOFError, zlib.error, struct.error, pickle.UnpicklingError, IndexError, KeyError, ValueError)


def _damaged(directory: Path, exc: BaseException) -> BaseException:
    """The error to raise for a failure inside whoosh: IndexDamaged (type and text in the message)
    for what reading damaged files raises, the exception itself for anything else (a bug is a bug,
    not damage: calling it damage would set the serving generation aside). Opening an index only
    reads files, so there every failure counts as damage (see `WhooshIndex.__init__`)."""
    if not isinstance(exc, READ_ERRORS) and type(exc) is not Exception:
        return exc
    return _damage(directory, exc)


def _damage(directory: Path, exc: BaseException) -> IndexDamaged:
    detail = " ".join(str(exc).split()) or "no detail"
    return IndexDamaged(f"the index at {directory} is damaged ({type(exc).__name__}: {detail})")


class WhooshIndex(EngineIndex):
    """An open whoosh generation; one searcher reused across queries.

    whoosh stores the postings; matching and BM25F scoring run over numpy arrays (see `bm25f`).
    """

    capabilities = frozenset({"explain", "similar_terms", "article", "facets"})

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        try:
            self._ix = whoosh_index.open_dir(str(directory))
            self._searcher = self._ix.searcher()
            self._reader = self._searcher.reader()
            self._postings = _Postings(self._reader)
            self._columns = _Columns(self._reader)
            schema_ = self._ix.schema
        except Exception as exc:  # opening only reads files: any failure is damage
            raise _damage(directory, exc) from None
        self.searchable = tuple(f for f in SEARCH_FIELDS if f in schema_ and (f != "authors" or "author" in schema_))

    def doc_count(self) -> int:
        try:
            return self._searcher.doc_count()
        except Exception as exc:  # see _damaged
            raise _damaged(self._directory, exc) from None

    def doc_frequency(self, term: str, field: str | None = None) -> int:
        """Articles holding the term, from its postings: the term dictionary counts per field (a word
        in the headline and body of one article would count twice) and keeps deleted articles until
        segments merge. An index of all fields' terms would make this one lookup, but doubled the
        build time; reading the postings makes --like ~200 ms slower at BBC size."""
        try:
            if field and field not in self.searchable:
                return 0
            if field and self.counts_exact():
                return int(self._reader.doc_frequency(field, term))
            found = [ids for ids in (self._postings.get(f, term)[0] for f in ((field,) if field else self.searchable)) if ids.size]
            if len(found) < 2:
                return int(found[0].size) if found else 0
            holds = np.zeros(self._columns.size, dtype=bool)
            for ids in found:
                holds[ids] = True
            return int(np.count_nonzero(holds))
        except Exception as exc:  # see _damaged
            raise _damaged(self._directory, exc) from None

    def counts_exact(self) -> bool:
        return not self._reader.has_deletions()

    def terms_with_prefix(self, field: str, prefix: str) -> list[tuple[str, int]]:
        """Reads the field's terms from the prefix on (whoosh's own Levenshtein automaton, in Python,
        took 150-250 ms at 48k articles for did-you-mean; a letter's terms ~5-30 ms)."""
        if field not in self.searchable:
            return []
        try:
            return [(text.decode("utf-8"), info.doc_frequency()) for text, info in self._reader.iter_prefix(field, prefix)]
        except Exception as exc:  # see _damaged
            raise _damaged(self._directory, exc) from None

    def term_texts(self, field: str, prefix: str) -> list[str]:
        """The terms only: whoosh then skips decoding each term's statistics (2x faster, 20 instead of
        40 ms for a letter of the body's terms at 3k articles)."""
        if field not in self.searchable:
            return []
        try:
            return [text.decode("utf-8") for text in self._reader.expand_prefix(field, prefix)]
        except Exception as exc:  # see _damaged
            raise _damaged(self._directory, exc) from None

    def article(self, article_id: str) -> Article | None:
        try:
            stored = self._searcher.document(id=article_id)
        except Exception as exc:  # see _damaged
            raise _damaged(self._directory, exc) from None
        return from_fields(stored) if stored else None

    def search(self, root: Node, weights: Mapping[str, float], limit: int, filters: Filters | None = None,
               sort_by_date: bool = False, explain: bool = False) -> EnginePage:
        root = expand(root, self)
        try:
            return self._search(root, weights, limit, filters, sort_by_date, explain)
        except Exception as exc:  # see _damaged
            raise _damaged(self._directory, exc) from None

    def _search(self, root: Node, weights: Mapping[str, float], limit: int, filters: Filters | None,
                sort_by_date: bool, explain: bool) -> EnginePage:
        fields = _searched_fields(weights, self.searchable)
        field_weights = {f: float(weights.get(f, 0) or 1.0) for f in SEARCH_FIELDS}
        candidates = np.flatnonzero(self._matched(root, fields, filters))
        if candidates.size == 0:
            return EnginePage(0, ())
        stats = [self._term_stats(*scored) for scored in bm25f.scored_terms(root, fields)]
        norms = {f: self._columns.norm(f) for f in self.searchable}
        scores, shares = bm25f.score(stats, field_weights, norms, self._columns.size, self.doc_count(), explain)
        depth = limit + TIE_MARGIN
        if sort_by_date:
            order = np.lexsort((scores[candidates], self._columns.dates()[candidates]))[::-1][:depth]
            top = candidates[order]
        else:
            ranked = np.lexsort((candidates, -scores[candidates]))[:depth]
            top = candidates[ranked]
            if top.size > limit:  # only the best and those tied with the last of them can make the page:
                top = top[scores[top] >= scores[top[limit - 1]]]  # the others' articles are not read
        hits = (
            EngineHit(from_fields(self._searcher.stored_fields(int(d))), float(scores[d]), bm25f.explanation(shares, int(d)))
            for d in top
        )
        return EnginePage(int(candidates.size), in_stable_order(hits, limit, sort_by_date))

    def _matched(self, root: Node, fields: list[str], filters: Filters | None) -> np.ndarray:
        """The live documents matching the query tree and the filters, as a boolean array."""
        allowed = _filter_mask(filters, self._columns, self._postings) if filters else self._columns.alive
        return self._match(root, fields) & allowed

    def facets(self, root: Node, weights: Mapping[str, float], filters: Filters | None, names: Iterable[str],
               size: int) -> Facets:
        """Counted over the match array: a keyword's postings (categories, source) or the date column
        (years) masked by it, so every match counts and nothing is read per document."""
        root = expand(root, self)
        try:
            matched = self._matched(root, _searched_fields(weights, self.searchable), filters)
            found: Facets = {}
            for name in names:
                if name == "year":
                    years, counts = np.unique(self._columns.dates()[matched].astype("U4"), return_counts=True)
                    values = {str(y): int(c) for y, c in zip(years, counts) if year_of(str(y))}
                else:
                    field = "categories" if name == "category" else name
                    values = {}
                    for term in self._reader.lexicon(field) if field in self._ix.schema else ():  # "author": older indexes lack it
                        if count := int(np.count_nonzero(matched[self._postings.get(field, term.decode("utf-8"))[0]])):
                            values[term.decode("utf-8")] = count
                found[name] = top_values(values, size)
            return found
        except Exception as exc:  # see _damaged
            raise _damaged(self._directory, exc) from None

    def _term_stats(self, label: str, boost: float, terms: dict[str, tuple[str, ...]]) -> bm25f.TermStats:
        postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for field, names in terms.items():
            found = [p for p in (self._postings.get(field, t) for t in names) if p[0].size]
            if found:
                postings[field] = found[0] if len(found) == 1 else (
                    np.concatenate([p[0] for p in found]), np.concatenate([p[1] for p in found]))
        return bm25f.TermStats(label, boost, postings)

    def _match(self, node: Node, fields: list[str]) -> np.ndarray:
        """Documents matching the query tree, as a boolean array."""
        size = self._columns.size
        if isinstance(node, And):
            result = np.ones(size, dtype=bool)
            for item in node.items:
                result &= self._match(item, fields)
            return result
        if isinstance(node, Or):
            result = np.zeros(size, dtype=bool)
            for item in node.items:
                result |= self._match(item, fields)
            return result
        if isinstance(node, Not):
            return ~self._match(node.item, fields)
        result = np.zeros(size, dtype=bool)
        for field in ([node.field] if node.field else fields):
            if isinstance(node, Phrase) and node.slop:
                result |= self._sloppy_phrase(node, field)
            elif isinstance(node, Phrase):
                result[list(wq.Phrase(field, list(node.terms)).docs(self._searcher))] = True
            else:
                for term in node.index_terms():
                    result[self._postings.get(field, term)[0]] = True
        return result

    def _sloppy_phrase(self, node: Phrase, field: str) -> np.ndarray:
        """Documents whose `field` holds the phrase within `node.slop` moves (`within_slop`, as tantivy
        and OpenSearch count them; whoosh's own slop keeps the word order and allows it per gap)."""
        size = self._columns.size
        has_all = np.ones(size, dtype=bool)
        for term in set(node.terms):
            has_term = np.zeros(size, dtype=bool)
            has_term[self._postings.get(field, term)[0]] = True
            has_all &= has_term
        candidates = np.flatnonzero(has_all)
        result = np.zeros(size, dtype=bool)
        for leaf, offset in self._reader.leaf_readers():
            docs = candidates[(candidates >= offset) & (candidates < offset + leaf.doc_count_all())] - offset
            if docs.size:
                found = {term: _positions(leaf, field, term, docs) for term in set(node.terms)}
                for doc in docs.tolist():
                    result[doc + offset] = within_slop([found[term][doc] for term in node.terms], node.slop)
        return result

    def close(self) -> None:
        self._searcher.close()


def _positions(leaf: Any, field: str, term: str, docs: np.ndarray) -> dict[int, list[int]]:
    """The term's positions in each of `docs` (sorted segment doc numbers that all hold it)."""
    matcher = leaf.postings(field, term)
    found: dict[int, list[int]] = {}
    for doc in docs.tolist():
        if matcher.is_active() and matcher.id() < doc:
            matcher.skip_to(doc)
        found[doc] = matcher.value_as("positions") if matcher.is_active() and matcher.id() == doc else []
    return found


def _searched_fields(weights: Mapping[str, float], held: tuple[str, ...] = SEARCH_FIELDS) -> list[str]:
    """The fields a field-less word is searched in: those the index holds weighted above 0 (all if none is)."""
    return [f for f in held if weights.get(f, 0) > 0] or list(held)


class WhooshEngine(Engine):
    name = "whoosh"

    def create(self, directory: Path, procs: int | None = None) -> WhooshWriter:
        ix = whoosh_index.create_in(str(directory), schema())
        return WhooshWriter(ix, default_workers() if procs is None else procs)

    def update(self, directory: Path) -> WhooshWriter:
        return WhooshWriter(whoosh_index.open_dir(str(directory)), replace=True)

    def open(self, directory: Path) -> WhooshIndex:
        return WhooshIndex(directory)


ENGINE = WhooshEngine()
