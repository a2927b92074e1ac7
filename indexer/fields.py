"""The metadata names that real posts and feeds use, shared by Markdown front matter and JSON records.

Sites and feeds name the same thing many ways (`title`/`headline`, `pubDate`/`published_at`,
`tags`/`keywords`); each role lists its names, most specific first, compared case-insensitively.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from .readers import clean

TITLE = ("headline", "title")
BULLETS = ("bullets", "highlights")
LEADS = ("short_description", "description", "excerpt", "summary", "abstract", "deck", "subtitle", "standfirst", "lead")
BODY = ("body", "text", "content", "article", "articlebody", "story")
DATE = ("date", "published", "published_at", "publishedat", "pubdate", "datepublished", "publishdate", "created")
CATEGORIES = ("categories", "category", "section", "tags", "tag", "topics", "keywords")
URL = ("url", "link", "canonical_url", "canonicalurl")
AUTHORS = ("author", "authors", "byline")
SOURCE = ("source", "publisher")
ID = ("id",)
#: Names of one category each, never split at spaces (Jekyll splits `categories: a b` but not `category`).
SINGLE = frozenset({"category", "section", "tag"})


def lowered(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with lower-case keys (the first of two keys that differ only in case wins)."""
    found: dict[str, Any] = {}
    for key, value in record.items():
        found.setdefault(str(key).lower(), value)
    return found


def first(record: Mapping[str, Any], keys: Iterable[str]) -> Any:
    """The value of the first key present with a value (not None, not an empty string or list)."""
    for key in keys:
        value = record.get(key)
        if value is not None and value != "" and value != []:
            return value
    return None


def scalar_text(value: Any) -> str:
    """A value as text: strings and numbers as written, a list's first item, a dict's `name`, else empty."""
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def categories(record: Mapping[str, Any]) -> tuple[str, ...]:
    """Categories, sections, tags, topics and keywords, each name once (case-insensitively), in that order.

    A list gives one name per item; a string is split at commas, else (plural names, as Jekyll reads
    them) at spaces.
    """
    found: list[str] = []
    seen: set[str] = set()
    for key in CATEGORIES:
        for name in _names(record.get(key), split_spaces=key not in SINGLE):
            if name.casefold() not in seen:
                seen.add(name.casefold())
                found.append(name)
    return tuple(found)


def _names(value: Any, split_spaces: bool) -> Iterable[str]:
    if isinstance(value, (list, tuple)):
        for item in value:
            text = scalar_text(item) if isinstance(item, dict) else item
            if isinstance(text, (str, int, float)) and not isinstance(text, bool):
                yield from _names(str(text), split_spaces=False)
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return
    for part in value.split(",") if "," in value or not split_spaces else value.split():
        name = clean(part)
        if name:
            yield name


def distinct(texts: Iterable[str]) -> list[str]:
    """The non-empty texts, each once (spacing and case aside), in order: description and excerpt are
    often the same sentence."""
    seen: set[str] = set()
    found: list[str] = []
    for text in texts:
        key = " ".join(text.casefold().split())
        if key and key not in seen:
            seen.add(key)
            found.append(text)
    return found
