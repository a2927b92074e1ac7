"""The whoosh engine (package whoosh-reloaded): every whoosh call of the project lives here."""
from __future__ import annotations

import heapq
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from whoosh import index as whoosh_index
from whoosh import matching
from whoosh import query as wq
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.scoring import BM25F

from query.syntax import SEARCH_FIELDS, And, Node, Not, Or, Phrase, Term

from .. import analysis
from ..errors import IndexDamaged
from ..models import Article
from . import EngineHit, EnginePage, Filters

LIST_SEPARATOR = "\n"
MAX_EXPANSIONS = 200  # prefix and fuzzy terms expand to at most this many index terms


class ProjectAnalyzer(Tokenizer):
    """whoosh adapter for `indexer.analysis.tokens` (one pass: split, fold, stop, stem)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProjectAnalyzer)

    def __hash__(self) -> int:
        return hash(ProjectAnalyzer)

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: Any) -> Iterator[WhooshToken]:
        token = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.boost = 1.0
        token.stopped = False
        if not tokenize:
            token.original = token.text = value
            token.pos, token.startchar, token.endchar = start_pos, start_char, start_char + len(value)
            yield token
            return
        for item in analysis.tokens(value):
            token.text = item.term
            if keeporiginal:
                token.original = value[item.start:item.end]
            if positions:
                token.pos = start_pos + item.position
            if chars:
                token.startchar, token.endchar = start_char + item.start, start_char + item.end
            yield token


def schema() -> Schema:
    text = dict(analyzer=ProjectAnalyzer(), stored=True, phrase=True)
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
    fields: dict[str, Any] = {
        "id": article.id,
        "path": article.path,
        "headline": article.headline,
        "bullets": LIST_SEPARATOR.join(article.bullets),
        "body": LIST_SEPARATOR.join(article.body),
        "captions": LIST_SEPARATOR.join(article.captions),
        "categories": ",".join(c.replace(",", " ") for c in article.categories),
    }
    for name in ("line", "date", "source", "url"):
        value = getattr(article, name)
        if value is not None:
            fields[name] = value
    return {k: v for k, v in fields.items() if v != ""}


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
    """Adds articles; `replace` makes an added article replace any with the same id (updates)."""

    def __init__(self, ix: Any, procs: int = 1, replace: bool = False) -> None:
        self._writer = ix.writer(limitmb=256, procs=procs) if procs > 1 else ix.writer(limitmb=256)
        self._replace = replace

    def add(self, article: Article) -> None:
        fields = to_fields(article)
        if self._replace:
            self._writer.update_document(**fields)
        else:
            self._writer.add_document(**fields)

    def delete_path(self, path: str) -> None:
        self._writer.delete_by_term("path", path)

    def commit(self) -> None:
        self._writer.commit()

    def cancel(self) -> None:
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


class _ExpansionMatcher(matching.ListMatcher):
    """A precomputed document list that whoosh's top-k pruning never drops: pruning assumes block
    quality bounds this list does not keep, and would make the total count wrong."""

    def replace(self, minquality: float = 0) -> Any:
        return self if self.is_active() else matching.NullMatcher()

    def max_quality(self) -> float:
        return float("inf")


class _CappedExpansion:
    """Mixin for whoosh's expanding queries (prefix, fuzzy): at most MAX_EXPANSIONS index terms, the
    most frequent first, matched as one precomputed document list with a constant score.

    whoosh would OR one matcher per expanded term, stepping through every document in Python:
    `th*` took 12 s on 26,000 articles. Reading each posting list's ids in one go takes a fraction.
    """

    fieldname: str
    boost: float

    def _btexts(self, ixreader: Any) -> list[str]:
        texts = super()._btexts(ixreader)  # type: ignore[misc]
        return heapq.nlargest(MAX_EXPANSIONS, texts, key=lambda text: ixreader.doc_frequency(self.fieldname, text))

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        reader = searcher.reader()
        ids: set[int] = set()
        for text in self._btexts(reader):
            ids.update(reader.postings(self.fieldname, text).all_ids())
        if not ids:
            return matching.NullMatcher()
        return _ExpansionMatcher(sorted(ids), all_weights=self.boost)


class CappedPrefix(_CappedExpansion, wq.Prefix):
    pass


class CappedFuzzyTerm(_CappedExpansion, wq.FuzzyTerm):
    pass


def _leaf(node: Term | Phrase, field: str, boost: float) -> wq.Query:
    if isinstance(node, Phrase):
        return wq.Phrase(field, list(node.terms), boost=boost)
    if node.prefix:
        return CappedPrefix(field, node.term, boost=boost)
    if node.fuzzy:
        return CappedFuzzyTerm(field, node.term, boost=boost, maxdist=node.fuzzy, prefixlength=1)
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


def _damaged(directory: Path, exc: BaseException) -> IndexDamaged:
    """The error for any failure while whoosh reads its files.

    Truncated, garbled or missing files surface as OSError, EOFError, zlib.error, struct.error,
    pickle errors, IndexError, KeyError or even a bare Exception("Block tag error"), so every
    exception raised inside a whoosh read counts as damage; its type and text stay in the message.
    """
    detail = " ".join(str(exc).split()) or "no detail"
    return IndexDamaged(f"the index at {directory} is damaged ({type(exc).__name__}: {detail})")


class WhooshIndex:
    """An open whoosh generation; one searcher reused across queries."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        try:
            self._ix = whoosh_index.open_dir(str(directory))
            self._searcher = self._ix.searcher(weighting=BM25F(B=0.75, K1=1.2))
        except Exception as exc:  # see _damaged
            raise _damaged(directory, exc) from None

    def doc_count(self) -> int:
        try:
            return self._searcher.doc_count()
        except Exception as exc:  # see _damaged
            raise _damaged(self._directory, exc) from None

    def doc_frequency(self, term: str) -> int:
        try:
            return sum(self._searcher.doc_frequency(f, term) for f in SEARCH_FIELDS)
        except Exception as exc:  # see _damaged
            raise _damaged(self._directory, exc) from None

    def search(self, root: Node, weights: Mapping[str, float], limit: int, filters: Filters | None = None,
               sort_by_date: bool = False) -> EnginePage:
        query = _translate(root, weights)
        allow, mask = _filter_query(filters) if filters else (None, None)
        kwargs: dict[str, Any] = {"limit": limit, "filter": allow, "mask": mask}
        if sort_by_date:
            kwargs.update(sortedby="date", reverse=True)
        try:
            results = self._searcher.search(query, **kwargs)
            hits = tuple(EngineHit(from_fields(hit.fields()), float(hit.score or 0.0)) for hit in results)
            return EnginePage(len(results), hits)
        except Exception as exc:  # see _damaged
            raise _damaged(self._directory, exc) from None

    def close(self) -> None:
        self._searcher.close()


class WhooshEngine:
    name = "whoosh"

    def create(self, directory: Path, procs: int = 1) -> WhooshWriter:
        ix = whoosh_index.create_in(str(directory), schema())
        return WhooshWriter(ix, procs)

    def update(self, directory: Path) -> WhooshWriter:
        return WhooshWriter(whoosh_index.open_dir(str(directory)), replace=True)

    def open(self, directory: Path) -> WhooshIndex:
        return WhooshIndex(directory)


ENGINE = WhooshEngine()
