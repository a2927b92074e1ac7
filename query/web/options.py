"""A request's query parameters as checked search options: one reading for the API and the page.

Every value is checked here or by `Searcher.search` (dates, sort, field, facet names, offset): a bad
one is a QueryError, which the app answers with 400 and one line, never a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Mapping
from urllib.parse import urlencode

from indexer.engines import FACETS
from indexer.errors import QueryError

MAX_PAGE = 100  # hits per request: a page, not an export (snippets are made for every hit)
DEFAULT_PAGE = 10
MAX_CONTEXT = 20  # as `search --context`
TRUE, FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class SearchOptions:
    """What a search request asks for, with the defaults of the page; `like` searches for articles
    similar to that article id instead of `q`."""

    q: str = ""
    limit: int = DEFAULT_PAGE
    offset: int = 0
    since: str | None = None
    until: str | None = None
    source: str | None = None
    category: str | None = None
    sort: str = "relevance"
    field: str | None = None
    exact: bool = False
    context: int | None = None
    facets: tuple[str, ...] = ()
    like: str | None = None
    author: str | None = None

    @classmethod
    def read(cls, params: Mapping[str, str], **given: Any) -> "SearchOptions":
        """The options of a query string (the last value of a repeated parameter); `given` sets the
        ones a route fixes (the article id of /api/like/{id})."""
        def text(name: str) -> str | None:
            value = params.get(name, "").strip()
            return value or None

        options = cls(
            q=params.get("q", ""),
            limit=_number(params, "limit", DEFAULT_PAGE, 1, MAX_PAGE),
            offset=_number(params, "offset", 0, 0, None),
            since=text("since"), until=text("until"), source=text("source"), category=text("category"),
            sort=text("sort") or "relevance", field=text("field"), exact=_flag(params, "exact"),
            context=_number(params, "context", None, 0, MAX_CONTEXT),
            facets=_facets(params.get("facets", "")), author=text("author"),
        )
        return replace(options, **given)

    def search_arguments(self) -> dict[str, Any]:
        """Keyword arguments of `Searcher.search`."""
        return {"limit": self.limit, "offset": self.offset, "since": self.since, "until": self.until,
                "source": self.source, "category": self.category, "sort": self.sort, "field": self.field,
                "exact": self.exact, "context": self.context, "facets": self.facets, "like": self.like,
                "author": self.author}

    @property
    def filtered(self) -> bool:
        return any((self.since, self.until, self.source, self.category, self.author))

    def query_string(self, **changes: Any) -> str:
        """These options with some changed, as a query string for a link: only what differs from the
        defaults, so links stay short and readable (like and facets belong to the route, not the link)."""
        changed = replace(self, **changes)
        default = SearchOptions()
        pairs = []
        for item in fields(self):
            value = getattr(changed, item.name)
            if item.name in ("like", "facets") or value == getattr(default, item.name):
                continue
            pairs.append((item.name, "1" if value is True else str(value)))
        return urlencode(pairs)


def _number(params: Mapping[str, str], name: str, default: int | None, low: int, high: int | None) -> Any:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name} must be a whole number, not {raw[:40]!r}") from None
    if value < low or (high is not None and value > high):
        raise QueryError(f"{name} must be between {low} and {high}" if high is not None else f"{name} must be at least {low}")
    return value


def _flag(params: Mapping[str, str], name: str) -> bool:
    raw = params.get(name, "").strip().lower()
    if raw not in TRUE + FALSE:
        raise QueryError(f"{name} must be 1 or 0 (true or false), not {raw[:40]!r}")
    return raw in TRUE


def _facets(raw: str) -> tuple[str, ...]:
    """`facets=category,year`; `all` (or 1, true) asks for every facet."""
    names = tuple(name.strip().lower() for name in raw.split(",") if name.strip())
    return FACETS if names and names[0] in ("all", *TRUE) and len(names) == 1 else names
