"""The whoosh engine (package whoosh-reloaded): every whoosh call of the project lives here."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.scoring import BM25F

from query.syntax import SEARCH_FIELDS, And, Node, Not, Or, Phrase, Term

from .. import analysis
from ..errors import IndexDamaged
from ..models import Article
from ..parallel import default_workers
from . import EngineHit, EnginePage, Filters

LIST_SEPARATOR = "\n"
MAX_EXPANSIONS = 200  # prefix and fuzzy terms expand to at most this many index terms


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
        date=ID(stored=True, sortable=True),
        source=KEYWORD(stored=True, lowercase=True, commas=True),
        categories=KEYWORD(stored=True, lowercase=True, commas=True),
        url=STORED,
    )


def to_fields(article: Article) -> dict[str, Any]:
    """whoosh fields: analysed terms indexed, the original text stored (`_stored_<field>`)."""
    fields: dict[str, Any] = {
        "id": article.id,
        "path": article.path,
        "categories": ",".join(c.replace(",", " ") for c in article.categories),
    }
    for name in ("line", "date", "source", "url"):
        fields[name] = getattr(article, name)
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
        categories=tuple(c for c in (stored.get("categories") or "").split(",") if c),
        path=stored.get("path", ""), line=stored.get("line"),
    )


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
        self._pending: list[dict[str, Any]] | None = [] if procs > 1 and not replace else None
        self._writer: Any = None if self._pending is not None else self._open(1)

    def _open(self, procs: int) -> Any:
        # compound=False: whoosh opens a compound segment by copying each part into memory
        # (BytesIO over the mmap), which made opening a large index take most of a cold query
        options: dict[str, Any] = {"limitmb": 256, "compound": False}
        return self._ix.writer(procs=procs, multisegment=False, **options) if procs > 1 else self._ix.writer(**options)

    def _start(self, procs: int) -> None:
        pending, self._pending = self._pending or [], None
        self._writer = self._open(procs)
        for fields in pending:
            self._writer.add_document(**fields)

    def add(self, article: Article) -> None:
        fields = to_fields(article)
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

    def commit(self) -> None:
        if self._pending is not None:
            self._start(1)
        self._writer.commit()

    def cancel(self) -> None:
        if self._writer is not None:
            self._writer.cancel()


def _translate(node: Node, weights: Mapping[str, float]) -> wq.Query:
    """The query tree as a whoosh query; a field-less leaf becomes an OR over weighted fields."""
    if isinstance(node, And):
        return wq.And([_translate(i, weights) for i in node.items])
    if isinstance(node, Or):
        return wq.Or([_translate(i, weights) for i in node.items])
    if isinstance(node, Not):
        return wq.Not(_translate(node.item, weights))
    fields = [node.field] if node.field else [f for f in SEARCH_FIELDS if weights.get(f, 0) > 0]
    leaves = [_leaf(node, f, weights.get(f, 1.0) or 1.0) for f in fields]
    return leaves[0] if len(leaves) == 1 else wq.Or(leaves)


def _leaf(node: Term | Phrase, field: str, boost: float) -> wq.Query:
    if isinstance(node, Phrase):
        return wq.Phrase(field, list(node.terms), boost=boost)
    if node.prefix:
        return wq.Prefix(field, node.term, boost=boost)
    if node.fuzzy:
        return wq.FuzzyTerm(field, node.term, boost=boost, maxdist=node.fuzzy, prefixlength=1)
    return wq.Term(field, node.term, boost=boost)


def _filter_query(filters: Filters) -> tuple[wq.Query | None, wq.Query | None]:
    """(allow, mask) queries for whoosh's filter= and mask= arguments."""
    allow: list[wq.Query] = []
    if filters.since or filters.until:
        allow.append(wq.TermRange("date", filters.since, (filters.until or "") + "\uffff" if filters.until else None))
    if filters.source:
        allow.append(wq.Term("source", filters.source.lower()))
    if filters.category:
        allow.append(wq.Term("categories", filters.category.lower()))
    mask = wq.Or([wq.Term("id", i) for i in filters.exclude_ids]) if filters.exclude_ids else None
    return (wq.And(allow) if allow else None), mask


class WhooshIndex:
    """An open whoosh generation; one searcher reused across queries."""

    def __init__(self, directory: Path) -> None:
        try:
            self._ix = whoosh_index.open_dir(str(directory))
            self._searcher = self._ix.searcher(weighting=BM25F(B=0.75, K1=1.2))
        except Exception as exc:  # whoosh raises many kinds on damaged files
            raise IndexDamaged(f"cannot open the index at {directory}: {exc}") from None

    def doc_count(self) -> int:
        return self._searcher.doc_count()

    def doc_frequency(self, term: str) -> int:
        return sum(self._searcher.doc_frequency(f, term) for f in SEARCH_FIELDS)

    def search(self, root: Node, weights: Mapping[str, float], limit: int, filters: Filters | None = None,
               sort_by_date: bool = False) -> EnginePage:
        query = _translate(root, weights)
        allow, mask = _filter_query(filters) if filters else (None, None)
        kwargs: dict[str, Any] = {"limit": limit, "filter": allow, "mask": mask}
        if sort_by_date:
            kwargs.update(sortedby="date", reverse=True)
        try:
            results = self._searcher.search(query, **kwargs)
            # sorted by date, whoosh puts the sort key where the score goes: no score then
            hits = tuple(EngineHit(from_fields(hit.fields()), 0.0 if sort_by_date else float(hit.score or 0.0)) for hit in results)
            return EnginePage(len(results), hits)
        except (OSError, EOFError, KeyError, ValueError) as exc:
            raise IndexDamaged(f"the index could not be read ({exc}); rebuild it with: search-index rebuild") from None

    def close(self) -> None:
        self._searcher.close()


class WhooshEngine:
    name = "whoosh"

    def create(self, directory: Path, procs: int | None = None) -> WhooshWriter:
        ix = whoosh_index.create_in(str(directory), schema())
        return WhooshWriter(ix, default_workers() if procs is None else procs)

    def update(self, directory: Path) -> WhooshWriter:
        return WhooshWriter(whoosh_index.open_dir(str(directory)), replace=True)

    def open(self, directory: Path) -> WhooshIndex:
        return WhooshIndex(directory)


ENGINE = WhooshEngine()
