"""Author names as sources write them, made one form for `Article.authors`.

Front matter, feeds, web pages and wires give authors as a list of names, as one string listing
several ("Jane Smith and Bob Jones", "Jane Smith; Bob Jones", "By JANE SMITH, Reuters"), or as a byline
at the top of the story. Each name is cleaned (entities decoded, spaces collapsed), its leading "By"
dropped, split where one string lists several, and kept once (case aside), in the source's order.

A hostile value costs bounded time and space: only the first SCANNED_ITEMS items and SCANNED_CHARS
characters of a value are read, at most MAX_AUTHORS names are kept, and a name longer than
MAX_AUTHOR_CHARS (no real one is) is cut at a word.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Iterator

MAX_AUTHORS = 20
MAX_AUTHOR_CHARS = 100
SCANNED_ITEMS = MAX_AUTHORS * 5
SCANNED_CHARS = MAX_AUTHORS * (MAX_AUTHOR_CHARS + 10)

#: "Jane Smith, Bob Jones and Ann Lee" or "A; B": how one string lists several names.
LISTED = re.compile(r"\s*(?:[,;]|\band\b)\s*", re.IGNORECASE)
#: trafilatura joins the names it finds with "; " (after dropping "By" and "for MailOnline" itself).
SEMICOLONS = re.compile(r"\s*;\s*")
_BY_RE = re.compile(r"^by\b[\s.:]*", re.IGNORECASE)  # "By Jane", "BY: Jane", "By . Jane" (tokenised text)
_EDGES = " \t,;:|.-–—"
_LETTER_RE = re.compile(r"[^\W\d_]")


def author_names(value: Any, split: re.Pattern[str] | None = LISTED, drop: Iterable[str] = ()) -> tuple[str, ...]:
    """The names a metadata value gives: a string (split with `split` when it lists several), a list
    of names (the list is how the source lists several: its items are not split), or an object with a
    `name` (JSON-LD and feed authors). Names equal to one of `drop` (case aside) are left out: a wire's
    byline ends with the agency ("By Cal Mankowski, Reuters"), which is the source, not an author."""
    dropped = {name.casefold() for name in drop}
    found: list[str] = []
    seen: set[str] = set()
    for name in _candidates(value, split):
        name = normal_name(name)
        key = name.casefold()
        if name and key not in seen and key not in dropped:
            seen.add(key)
            found.append(name)
            if len(found) == MAX_AUTHORS:
                break
    return tuple(found)


def _candidates(value: Any, split: re.Pattern[str] | None) -> Iterator[str]:
    from .readers import clean  # the readers import this module: imported once they are loaded

    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        text = _BY_RE.sub("", clean(value[:SCANNED_CHARS]))
        yield from (split.split(text) if split is not None else (text,))
    elif isinstance(value, (list, tuple)):
        for item in value[:SCANNED_ITEMS]:
            if isinstance(item, (str, dict, int, float)) and not isinstance(item, bool):
                yield from _candidates(item, None)


def normal_name(text: str) -> str:
    """One name: spaces collapsed, a leading "By" and stray punctuation at the ends dropped, cut at a
    word past MAX_AUTHOR_CHARS; "" for what holds no letter (a dash, a lone date)."""
    from .readers import clean

    name = _BY_RE.sub("", clean(text[:SCANNED_CHARS])).strip(_EDGES)
    if len(name) > MAX_AUTHOR_CHARS:
        name = name[:MAX_AUTHOR_CHARS].rsplit(" ", 1)[0].strip(_EDGES)
    return name if _LETTER_RE.search(name) else ""


# --- bylines at the top of a story ------------------------------------------------------------------

#: The Daily Mail's header in CNN/Daily Mail `.story` files: "By", the name(s), then "PUBLISHED:".
_HEADER_END_RE = re.compile(r"^(?:PUBLISHED|UPDATED|Last updated)\b", re.IGNORECASE)
#: The same header as one tokenised paragraph: "By . Jane Smith . PUBLISHED: . 14:11 EST, ...".
_TOKENISED_RE = re.compile(r"^By \. (.{1,%d}?) \. (?=(?:PUBLISHED|UPDATED|Last updated)\b)" % (MAX_AUTHOR_CHARS * 3),
                           re.IGNORECASE)
#: A byline paragraph of its own: "By Jane Smith, CNN".
_BYLINE_RE = re.compile(r"^By\s+(\S.{0,%d})$" % (MAX_AUTHOR_CHARS * 3), re.IGNORECASE)
#: What follows a name in a story byline and is its outlet, not an author.
STORY_OUTLETS = ("CNN", "Daily Mail", "Daily Mail Online", "MailOnline")
_HEADER_NAMES = 4  # paragraphs between "By" and "PUBLISHED:" read as names, at most
#: Lower-case words a name may hold ("Solange De Santis" is also written "Solange de Santis").
_PARTICLES = frozenset({"de", "del", "della", "der", "den", "di", "da", "dos", "du", "van", "von", "la", "le", "bin",
                        "al", "ibn", "y", "e", "st"})


def story_byline(paragraphs: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """The authors named at the top of a story's paragraphs, and the paragraphs without that byline.

    Three shapes are read: the Daily Mail header ("By", a name per paragraph, "PUBLISHED: ..."), the
    same header as one tokenised paragraph, and a first paragraph "By Jane Smith[, CNN]". A story
    without a byline comes back as it was.
    """
    if not paragraphs:
        return (), paragraphs
    first = paragraphs[0]
    if first.rstrip(" .").casefold() == "by":
        names: list[str] = []
        for index, paragraph in enumerate(paragraphs[1:_HEADER_NAMES + 2], 1):
            if _HEADER_END_RE.match(paragraph):
                return author_names(names, drop=STORY_OUTLETS), paragraphs[index:]
            names.extend(LISTED.split(paragraph))
        return (), paragraphs
    if match := _TOKENISED_RE.match(first):
        return author_names(match.group(1), drop=STORY_OUTLETS), [first[match.end():], *paragraphs[1:]]
    if match := _BYLINE_RE.match(first):
        authors = author_names(match.group(1), drop=STORY_OUTLETS)
        if authors and all(_looks_like_name(name) for name in authors):  # not a sentence starting "By"
            return authors, paragraphs[1:]
    return (), paragraphs


def _looks_like_name(text: str) -> bool:
    """One to five words, each capitalised or a particle: "Jane Smith", "Solange de Santis"."""
    words = text.split()
    return 0 < len(words) <= 5 and all(w[:1].isupper() or w.casefold() in _PARTICLES for w in words)
