"""What the query layer returns: results with hits, each hit with ranked snippets."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, NamedTuple

from indexer.engines import Contribution

if TYPE_CHECKING:
    from .suggest import Suggestion

Span = tuple[int, int]


@dataclass(frozen=True)
class Snippet:
    """A passage of one section: the best sentence with its context, query words marked."""

    section: str
    text: str
    highlights: tuple[Span, ...]
    matched_terms: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"section": self.section, "text": self.text, "highlights": [list(h) for h in self.highlights]}


@dataclass(frozen=True)
class Hit:
    """One article found: where it is, its headline and snippets with the query words marked."""

    id: str
    path: str
    line: int | None
    headline: str
    headline_highlights: tuple[Span, ...]
    score: float
    date: str | None
    source: str | None
    categories: tuple[str, ...]
    snippets: tuple[Snippet, ...]
    rank: int = 0
    explanation: tuple[Contribution, ...] = ()  # with explain: what each field and term added
    authors: tuple[str, ...] = ()

    @property
    def location(self) -> str:
        """The file, with the line number for records of JSONL files."""
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "id": self.id,
            "path": self.path,
            "line": self.line,
            "headline": self.headline,
            "headline_highlights": [list(h) for h in self.headline_highlights],
            "score": round(self.score, 4),
            "date": self.date,
            "source": self.source,
            "categories": list(self.categories),
            "authors": list(self.authors),
            "snippets": [s.to_dict() for s in self.snippets],
            **({"explanation": [
                {"field": c.field, "term": c.term, "score": round(c.score, 4)} for c in self.explanation
            ]} if self.explanation else {}),
        }


@dataclass(frozen=True)
class SearchResults:
    """A page of hits and what the search counted (see `query.Searcher.search`)."""

    query: str
    total: int  # articles the ranking lists: with any of the words when the query has several (see all_words)
    fallback: bool  # no article has every word: all the hits have some of them
    hits: tuple[Hit, ...]
    generation: str = ""
    plain_words: bool = False
    suggestion: "Suggestion | None" = None  # the corrected query searched instead (did you mean)
    warning: str | None = None  # e.g. an older generation answered for a damaged one
    offset: int = 0  # hits skipped before these (paging)
    facets: Mapping[str, Mapping[str, int]] | None = None  # when asked: facet -> value -> matching articles
    all_words: int = 0  # articles with every word of the query: ranked first, the rest have some of them

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "all_words": self.all_words,
            "fallback": self.fallback,
            "plain_words": self.plain_words,
            "suggestion": self.suggestion.to_dict() if self.suggestion else None,
            "hits": [h.to_dict() for h in self.hits],
            **({"facets": {name: [{"value": value, "count": count} for value, count in values.items()]
                           for name, values in self.facets.items()}} if self.facets is not None else {}),
        }


class Serving(NamedTuple):
    """What a Searcher answers from: the generation CURRENT names, the one answering (an older one
    when that is damaged, with a warning), its engine and its articles."""

    generation: str
    answering: str
    engine: str
    articles: int
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"generation": self.generation, "answering": self.answering, "engine": self.engine,
                "articles": self.articles, "warning": self.warning}
