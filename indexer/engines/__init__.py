"""The engine layer: the only code that knows which search engine holds an index.

An engine writes `Article`s into a generation folder and answers query trees (`indexer.query_tree`)
with stored `Article`s and scores. Everything around it (readers, query syntax, prefix and fuzzy
expansion, snippets, CLI, API) is shared by all engines. Every engine implements the one contract
below (`Engine`, `EngineIndex`); `tests/test_conformance.py` checks each gives the same answers.

An engine backed by a service (OpenSearch) keeps its documents outside the generation folder
(`stores_elsewhere`) and implements the service hooks `describe`, `publish` and `discard`: the build
records what `describe` says in meta.json, calls `publish` just before the generation starts serving
and `discard` when a generation is thrown away. For embedded engines they do nothing.

Categories, sources and author names are keywords: each value one keyword as given, trimmed, lower-cased
and its inner whitespace collapsed (`keyword`); "News, UK" is the one keyword "news, uk" on every engine,
and the `--category` / `--source` / `--author` filters compare the same way (an author is matched by
their whole name). Author names are also a searchable text field, "authors" (see `indexer.models.SECTIONS`).
An index built before authors were stored lacks both: it is searched without them (`EngineIndex.searchable`).
"""
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Literal, Mapping, NamedTuple, Protocol

from ..errors import ArticleSearchError
from ..models import SECTIONS, Article
from ..query_tree import Node, within_edits

if TYPE_CHECKING:
    from ..config import Config

ENGINES: dict[str, str] = {
    "whoosh": "indexer.engines.whoosh",
    "tantivy": "indexer.engines.tantivy",
    "opensearch": "indexer.engines.opensearch",
}


def keyword(value: str) -> str:
    """A category or source as every engine indexes and filters it: trimmed, lower-cased, inner
    whitespace collapsed to one space; commas are kept ("news, uk" is one keyword)."""
    return " ".join(value.split()).lower()


def keywords(values: Iterable[str | None]) -> list[str]:
    """The distinct non-empty keywords of some categories or sources, in their order."""
    return list(dict.fromkeys(k for k in (keyword(v) for v in values if v) if k))


@dataclass(frozen=True)
class Filters:
    """Restrictions applied by the engine: dates as ISO strings (inclusive); a source, category or
    author is compared as a `keyword` (made one here, so every engine compares the same text)."""

    since: str | None = None
    until: str | None = None
    source: str | None = None
    category: str | None = None
    exclude_ids: tuple[str, ...] = ()
    author: str | None = None

    def __post_init__(self) -> None:
        for name in ("source", "category", "author"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, keyword(value) or None)

    def __bool__(self) -> bool:
        return any((self.since, self.until, self.source, self.category, self.exclude_ids, self.author))


class Contribution(NamedTuple):
    """How much one query term in one field added to a hit's score (for --explain)."""

    field: str
    term: str
    score: float


class EngineHit(NamedTuple):
    """A stored article an engine found, with its score."""

    article: Article
    score: float
    explanation: tuple[Contribution, ...] = ()  # filled only when search(..., explain=True)
    #: each field's length in analysed terms, from an index with `field_averages` (else analysed when needed)
    lengths: Mapping[str, int] | None = None


class EnginePage(NamedTuple):
    """The hits asked for, best first, and how many articles match in all."""

    total: int
    hits: tuple[EngineHit, ...]


class EngineWriter(Protocol):
    def add(self, article: Article) -> None: ...
    def delete_path(self, path: str) -> None: ...
    def delete_ids(self, ids: Iterable[str]) -> None: ...  # articles gone from a file that stays (updates)
    def commit(self) -> None: ...
    def cancel(self) -> None: ...


Feature = Literal["explain", "similar_terms", "article", "concurrent", "facets"]

#: What `EngineIndex.facets` counts: categories, sources and authors (as keywords), and the year of the date.
FACETS: tuple[str, ...] = ("category", "source", "year", "author")
Facets = dict[str, dict[str, int]]  # facet -> value -> articles


def year_of(date: str | None) -> str | None:
    """The year of an ISO date (its first four characters, when they are digits)."""
    return date[:4] if date and date[:4].isdigit() else None


def top_values(counts: Mapping[str, int], size: int) -> dict[str, int]:
    """The `size` values in the most articles; equal counts in the values' order, so that every
    engine cuts a facet at the same place."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:size])


class EngineIndex(ABC):
    """An open index generation: the hooks every engine implements, and the features it declares.

    - `search`: the query tree (`indexer.query_tree`, leaves hold analysed index terms, prefix and
      fuzzy leaves their `expanded` terms: see `indexer.expansion`, which engines call first in case a
      caller did not) with field weights applied at query time; at most `limit` hits best first (or
      newest first with `sort_by_date`, undated last), `total` counting every match; `filters`
      restrict matches; with `explain` (a declared feature) each hit carries per field and term
      `Contribution`s that add up to its score.
    - `doc_frequency`: the exact number of articles holding an index term in `field`, or in any
      searchable field (an article with the word in its headline and body counts once).
    - `terms_with_prefix`: the field's index terms starting with a prefix, each with an upper bound
      of its articles in that field (the term dictionary's count, which may include deleted articles
      until they are merged away). The term list behind prefix and fuzzy expansion and did-you-mean.
    - `similar_terms`: did-you-mean candidates (shared: see below).
    - `article`: the stored article with that id, or None (used by --like; a declared feature).
    An index declares the optional features it offers in `capabilities`; without them the query layer
    skips did-you-mean and refuses --explain / --like with a clear message (see `supports`).
    `searchable` lists the searchable fields the index holds: one built before authors were stored
    lacks "authors" (and their keywords), is searched in the others and can count or filter no author.
    """

    capabilities: ClassVar[frozenset[Feature]] = frozenset()
    searchable: tuple[str, ...] = SECTIONS

    @abstractmethod
    def doc_count(self) -> int: ...

    @abstractmethod
    def search(self, root: Node, weights: Mapping[str, float], limit: int, filters: Filters | None = None,
               sort_by_date: bool = False, explain: bool = False) -> EnginePage: ...

    @abstractmethod
    def doc_frequency(self, term: str, field: str | None = None) -> int: ...

    def doc_frequencies(self, terms: Iterable[str], field: str | None = None) -> dict[str, int]:
        """`doc_frequency` of several terms; a service engine answers them in one request."""
        return {term: self.doc_frequency(term, field) for term in terms}

    @abstractmethod
    def terms_with_prefix(self, field: str, prefix: str) -> Iterable[tuple[str, int]]: ...

    def counts_exact(self) -> bool:
        """Whether `terms_with_prefix` counts exactly (no deleted article counted): then a term that
        only one field holds needs no `doc_frequency` call."""
        return False

    def similar_terms(self, term: str, max_edits: int) -> list[tuple[str, int]]:
        """Did-you-mean candidates: index terms within `max_edits` edits of `term` (Levenshtein, a
        transposition two edits), first letter kept, with exact doc frequencies, alphabetically.

        The body's terms are read first (common words are there), the other fields' only if the body
        has no close term. Reading a letter's terms and filtering them takes ~5-30 ms at 48k articles.
        """
        for field in ("body", *(f for f in self.searchable if f != "body")):
            found = within_edits(term, self.term_texts(field, term[:1]), max_edits)
            if found:
                counts = self.doc_frequencies(sorted(set(found)))
                return list(counts.items())
        return []

    def term_texts(self, field: str, prefix: str) -> Iterable[str]:
        """The field's terms that start with `prefix`, without their counts (`similar_terms` reads a
        whole letter's terms and counts only the few close ones)."""
        return (term for term, _ in self.terms_with_prefix(field, prefix))

    def field_averages(self) -> Mapping[str, float] | None:
        """For an index that scores BM25F only approximately (SECTIONS, see `bm25f`): each field's
        average length in analysed terms over the articles that have it, with which the query layer
        rescores the best hits by exact BM25F. None when the engine scores it exactly itself, or the
        index was built before lengths were recorded."""
        return None

    def article(self, article_id: str) -> Article | None:
        """The stored article with that id, or None; offered by indexes declaring "article"."""
        raise ArticleSearchError(f"the {type(self).__name__} cannot fetch an article by id")

    def facets(self, root: Node, weights: Mapping[str, float], filters: Filters | None, names: Iterable[str],
               size: int) -> Facets:
        """For each facet named (`FACETS`), the articles matching `root` and `filters` (as `search`
        matches them) per value: the `size` values in the most of them, counted exactly by the
        engine itself over every match. Offered by indexes declaring "facets"."""
        raise ArticleSearchError(f"the {type(self).__name__} cannot count facets")

    @abstractmethod
    def close(self) -> None: ...


class Engine(ABC):
    """Writes and opens the generations of one engine."""

    name: ClassVar[str]
    #: A service engine: its documents live outside the generation folder (cloning the folder does not
    #: copy them, so an update writes into the serving index in place: see deploy/OPENSEARCH.md).
    stores_elsewhere: ClassVar[bool] = False

    @abstractmethod
    def create(self, directory: Path) -> EngineWriter: ...

    @abstractmethod
    def update(self, directory: Path) -> EngineWriter: ...

    @abstractmethod
    def open(self, directory: Path) -> EngineIndex: ...

    def describe(self, directory: Path) -> dict[str, Any]:
        """What a service engine wants recorded in meta.json (cluster, concrete index); {} otherwise."""
        return {}

    def publish(self, directory: Path) -> None:
        """Let a service engine switch its own pointer (an alias) to a generation about to serve."""

    def discard(self, directory: Path) -> None:
        """Let a service engine remove what it stored for a generation being thrown away."""


def get_engine(name: str, config: "Config | None" = None) -> Engine:
    """The engine of that name, imported on first use (engines pull in heavy libraries).

    An engine module may offer `engine_for(config)` for engines that need settings (a cluster URL);
    the others are one shared `ENGINE`.
    """
    module_name = ENGINES.get(name)
    if module_name is None:
        raise ArticleSearchError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if (exc.name or "").startswith("indexer"):
            raise  # a broken module of the project, not a missing library
        extra = "" if name == "whoosh" else f"[{name}]"  # whoosh is a dependency, the others are extras
        raise ArticleSearchError(f"engine {name!r} needs {exc.name}, which is not installed; "
                                 f"install it with: pip install 'article-search{extra}'") from None
    if config is not None and hasattr(module, "engine_for"):
        return module.engine_for(config)
    return module.ENGINE


def summed_contributions(parts: Iterable[tuple[str, str, float]]) -> tuple[Contribution, ...]:
    """(field, term, score) parts of a hit's score, the parts of the same field and term added up
    (a word may appear twice in a query tree); parts that add nothing are left out."""
    totals: dict[tuple[str, str], float] = {}
    for field, term, score in parts:
        totals[field, term] = totals.get((field, term), 0.0) + score
    return tuple(Contribution(field, term, score) for (field, term), score in totals.items() if score > 0)


TIE_MARGIN = 10  # hits fetched beyond the limit, so that equal scores at the cut are ordered by id


def in_stable_order(hits: Iterable[EngineHit], limit: int, by_date: bool = False) -> tuple[EngineHit, ...]:
    """The best `limit` of `hits` (fetched `limit + TIE_MARGIN` deep): by score, or newest first
    (undated last), and equal ones by article id.

    Engines break ties by the order in which documents were stored, which a rebuild of the same
    corpus (several writer processes or threads) or a merge changes; a user must get the same
    answer from the same archive, and every engine the same order.
    """
    ordered = sorted(hits, key=lambda hit: hit.article.id)
    ordered.sort(key=lambda hit: hit.score, reverse=True)
    if by_date:
        ordered.sort(key=lambda hit: hit.article.date or "", reverse=True)
    return tuple(ordered[:limit])


def supports(index: object, feature: Feature) -> bool:
    """Whether an open index declares an optional feature: "explain", "similar_terms" or "article"."""
    return isinstance(index, EngineIndex) and feature in index.capabilities
