"""What the page templates show, made from search results and articles: marked text as pieces
(the template puts each marked piece in <mark>, so every character is escaped by Jinja2), the
article view with the query words marked, facet links and paging."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from jinja2 import Environment, FileSystemLoader, select_autoescape

from indexer.errors import QueryError
from indexer.models import Article

from ..models import SearchResults, Span
from ..snippets import SCAN_CHARS, mark
from ..syntax import TermMatcher, parse
from .options import SearchOptions

TEMPLATES = Path(__file__).parent / "templates"
Piece = tuple[str, bool]  # a stretch of text, and whether it is a query word
FACET_LABELS = {"category": "Category", "source": "Source", "year": "Year", "author": "Author"}
PAGE_LINKS = 5  # page numbers shown around the current one


def environment() -> Environment:
    """Jinja2 with autoescaping on for every template: nothing from an article reaches the page unescaped."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["thousands"] = lambda number: f"{number:,}"
    env.filters["web_url"] = web_url
    env.globals["pieces"] = pieces
    return env


def web_url(url: str | None) -> str | None:
    """An article's own address, linked only when it is a web address (never javascript: or data:)."""
    return url if url and url.strip().lower().startswith(("https://", "http://")) else None


def pieces(text: str, spans: Iterable[Span]) -> list[Piece]:
    """The text cut at the marked spans (overlapping or out-of-range spans are ignored)."""
    found: list[Piece] = []
    position = 0
    for start, end in sorted(spans):
        if start < position or end > len(text) or start >= end:
            continue
        if start > position:
            found.append((text[position:start], False))
        found.append((text[start:end], True))
        position = end
    if position < len(text) or not found:
        found.append((text[position:], False))
    return found


@dataclass(frozen=True)
class ArticleView:
    """An article with the query words marked in every section (the first SCAN_CHARS characters of
    it: a 10 MB article is shown whole, marked as far as a snippet would look)."""

    article: Article
    headline: list[Piece]
    sections: list[tuple[str, list[list[Piece]]]]  # (section title, its paragraphs)


SECTION_TITLES = (("bullets", "Highlights"), ("body", ""), ("captions", "Captions"))


def article_view(article: Article, query: str) -> ArticleView:
    matches = _matcher(query)
    budget = [SCAN_CHARS]

    def marked(text: str) -> list[Piece]:
        if matches is None or budget[0] <= 0:
            return [(text, False)]
        budget[0] -= len(text)
        return pieces(text, mark(text, matches)[1])

    sections = [(title, [marked(p) for p in article.section_text(name)]) for name, title in SECTION_TITLES]
    return ArticleView(article, marked(article.headline), [(title, paragraphs) for title, paragraphs in sections if paragraphs])


def _matcher(query: str) -> Any:
    """A cached test of whether a word matches the query, or None for no query (or one with no words)."""
    if not query.strip():
        return None
    try:
        return lru_cache(maxsize=None)(TermMatcher(parse(query).root))
    except QueryError:
        return None


@dataclass(frozen=True)
class FacetLink:
    value: str
    count: int
    href: str
    active: bool


def facet_links(results: SearchResults, options: SearchOptions, prefix: str) -> list[tuple[str, list[FacetLink]]]:
    """Per facet, its values as links that narrow the search to them (a year is its dates); `prefix`
    is the address the links' query strings follow ("/?")."""
    groups = []
    for name, values in (results.facets or {}).items():
        links = []
        shown = sorted(values.items(), reverse=True) if name == "year" else values.items()  # years newest first
        for value, count in shown:
            change: dict[str, Any] = {"since": value, "until": value} if name == "year" else {name: value}
            active = all(getattr(options, key) == wanted for key, wanted in change.items())
            links.append(FacetLink(value, count, prefix + options.query_string(offset=0, **change), active))
        if links:
            groups.append((FACET_LABELS[name], links))
    return groups


def active_filters(options: SearchOptions, prefix: str) -> list[tuple[str, str]]:
    """(what, link that removes it) for each filter in force."""
    shown = []
    if options.since or options.until:
        span = options.since if options.since == options.until else f"{options.since or '…'} to {options.until or '…'}"
        shown.append((f"dates {span}", prefix + options.query_string(since=None, until=None, offset=0)))
    for name in ("source", "category", "author"):
        if value := getattr(options, name):
            shown.append((f"{name} {value}", prefix + options.query_string(offset=0, **{name: None})))
    return shown


@dataclass(frozen=True)
class Paging:
    first: int  # rank of the first hit shown
    last: int
    total: int
    previous: str | None
    next: str | None
    pages: Sequence[tuple[int, str, bool]]  # (page number, link, current)


def paging(results: SearchResults, options: SearchOptions, prefix: str, most: int) -> Paging:
    """'showing 11-20 of 1,627' and links to the pages around this one (as far as `most` hits reach)."""
    size, reachable = options.limit, min(results.total, most)

    def link(offset: int) -> str:
        return prefix + options.query_string(offset=offset)

    current = options.offset // size
    count = max(1, -(-reachable // size))
    window = range(max(0, current - PAGE_LINKS), min(count, current + PAGE_LINKS + 1))
    return Paging(
        first=options.offset + 1 if results.hits else 0, last=options.offset + len(results.hits), total=results.total,
        previous=link(max(0, options.offset - size)) if options.offset else None,
        next=link(options.offset + size) if options.offset + size < reachable else None,
        pages=[(page + 1, link(page * size), page == current) for page in window] if count > 1 else [],
    )
