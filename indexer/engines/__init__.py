"""The engine layer: the only code that knows which search engine holds an index.

An engine writes `Article`s into a generation folder and answers query trees (`indexer.query_tree`)
with stored `Article`s and scores. Everything around it (readers, query syntax, snippets, CLI, API)
is shared by all engines.

An engine backed by a service (OpenSearch) keeps its documents outside the generation folder and
also offers the optional hooks `describe`, `publish` and `discard` (see `service_hooks`): the build
records what `describe` says in meta.json, calls `publish` just before the generation starts serving
and `discard` when a half-built generation is thrown away. Embedded engines need none of them.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Protocol

from ..errors import ArticleSearchError
from ..models import SECTIONS, Article
from ..query_tree import within_edits

if TYPE_CHECKING:
    from ..config import Config

#: Prefix and fuzzy words expand to at most this many index terms, on every engine.
MAX_EXPANSIONS = 200

ENGINES: dict[str, str] = {
    "whoosh": "indexer.engines.whoosh",
    "tantivy": "indexer.engines.tantivy",
    "opensearch": "indexer.engines.opensearch",
}


@dataclass(frozen=True)
class Filters:
    """Restrictions applied by the engine: dates as ISO strings (inclusive), lower-case names."""

    since: str | None = None
    until: str | None = None
    source: str | None = None
    category: str | None = None
    exclude_ids: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any((self.since, self.until, self.source, self.category, self.exclude_ids))


@dataclass(frozen=True)
class Contribution:
    """How much one query term in one field added to a hit's score (for --explain)."""

    field: str
    term: str
    score: float


@dataclass(frozen=True)
class EngineHit:
    article: Article
    score: float
    explanation: tuple[Contribution, ...] = ()  # filled only when search(..., explain=True)


@dataclass(frozen=True)
class EnginePage:
    total: int
    hits: tuple[EngineHit, ...]


class EngineWriter(Protocol):
    def add(self, article: Article) -> None: ...
    def delete_path(self, path: str) -> None: ...
    def commit(self) -> None: ...
    def cancel(self) -> None: ...


class EngineIndex(Protocol):
    """An open index generation.

    - `search`: the query tree (`indexer.query_tree`, leaves hold analysed index terms; `Term.boost`
      weights a term, used by --like) with field weights applied at query time; at most `limit` hits
      best first (or newest first with `sort_by_date`, undated last), `total` counting every match;
      `filters` restrict matches; with `explain` each hit carries per field and term `Contribution`s
      that add up to its score.
    - `doc_frequency`: documents holding an index term in a searchable field (the exact count over
      all fields, or the largest per-field count where that is what the engine keeps).
    - `similar_terms`: index terms within `max_edits` edits (Levenshtein) of a term, each with its
      doc frequency; engines may require the first letter to match (the shared `similar_terms`
      below serves engines that list terms by prefix). Used by `query.suggest`.
    - `article`: the stored article with that id, or None (used by --like).
    `explain`, `similar_terms` and `article` are optional: without them the query layer skips
    did-you-mean and refuses --explain / --like with a clear message (see `supports`).
    """

    def doc_count(self) -> int: ...
    def search(self, root: object, weights: Mapping[str, float], limit: int, filters: Filters | None = None,
               sort_by_date: bool = False, explain: bool = False) -> EnginePage: ...
    def doc_frequency(self, term: str) -> int: ...
    def similar_terms(self, term: str, max_edits: int) -> list[tuple[str, int]]: ...
    def article(self, article_id: str) -> Article | None: ...
    def close(self) -> None: ...


class Engine(Protocol):
    name: str

    def create(self, directory: Path) -> EngineWriter: ...
    def update(self, directory: Path) -> EngineWriter: ...
    def open(self, directory: Path) -> EngineIndex: ...


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
        raise ArticleSearchError(f"engine {name!r} is not installed ({exc.name}); install it with: pip install -e '.[{name}]'") from None
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


def similar_terms(term: str, max_edits: int, terms_by_prefix: Callable[[str, str], Iterable[str]],
                  doc_frequency: Callable[[str], int]) -> list[tuple[str, int]]:
    """Did-you-mean candidates for an engine that lists a field's terms by prefix: index terms within
    `max_edits` edits of `term`, first letter kept, with doc frequencies.

    The body's terms are read first (common words are there), the other fields' only if the body
    has no close term. Reading a letter's terms and filtering them takes ~5-30 ms at 48k articles.
    """
    for field in ("body", *(f for f in SECTIONS if f != "body")):
        found = within_edits(term, terms_by_prefix(field, term[:1]), max_edits)
        if found:
            return [(t, doc_frequency(t)) for t in sorted(set(found))]
    return []


def supports(index: object, feature: str) -> bool:
    """Whether an open index offers an optional feature: "explain", "similar_terms" or "article"."""
    if feature == "explain":
        import inspect

        return "explain" in inspect.signature(index.search).parameters  # type: ignore[attr-defined]
    return callable(getattr(index, feature, None))


def describe(engine: Engine, directory: Path) -> dict[str, Any]:
    """What a service engine wants recorded in meta.json (cluster, concrete index); {} otherwise."""
    hook = getattr(engine, "describe", None)
    return dict(hook(directory)) if hook else {}


def publish(engine: Engine, directory: Path) -> None:
    """Let a service engine switch its own pointer (an alias) to a generation about to serve."""
    hook = getattr(engine, "publish", None)
    if hook:
        hook(directory)


def discard(engine: Engine, directory: Path) -> None:
    """Let a service engine remove what it stored for a generation being thrown away."""
    hook = getattr(engine, "discard", None)
    if hook:
        hook(directory)

