"""Ranked snippets: the sentences with the most distinct query terms, with context around them.

Works on stored article text with the index's own analyzer, so every engine gets the same snippets
and long bodies are covered to the end.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from indexer.analysis import any_term_matches, matching_words
from indexer.models import Article

from .models import Snippet, Span
from .syntax import TermMatcher

SNIPPET_SECTIONS: tuple[str, ...] = ("bullets", "body", "captions")
# A sentence ends at . ! ? or … (plus closing quotes/brackets) followed by space and a likely start.
_SENTENCE_END_RE = re.compile(r"""(?<=[.!?…])['"’”)\]]*\s+(?=["'‘“(\[]?[A-Z0-9])""")


@dataclass(frozen=True)
class _Sentence:
    text: str
    matched: frozenset[str]
    hits: tuple[Span, ...]
    paragraph: int


#: Snippets are cut from the first this-many characters of each section: every real article is
#: covered to its end (the longest Daily Mail body is 165,000 characters, marked in ~50 ms), while a
#: pathological one (100,000 bullets, a 10 MB body) still answers well within a second.
SCAN_CHARS = 1_000_000


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of a paragraph (a heuristic splitter: abbreviations may split early)."""
    parts, start = [], 0
    for match in _SENTENCE_END_RE.finditer(paragraph):
        parts.append(paragraph[start:match.start()].strip())
        start = match.end()
    parts.append(paragraph[start:].strip())
    return [p for p in parts if p]


def mark(text: str, matches: Callable[[str], bool]) -> tuple[frozenset[str], tuple[Span, ...]]:
    """Distinct matched terms and the character spans of matching words in a text."""
    terms, spans = matching_words(text, matches)
    return frozenset(terms), tuple(spans)


def _sentences(paragraphs: tuple[str, ...], matcher: TermMatcher, matches: Callable[[str], bool]) -> list[_Sentence]:
    """The marked sentences of a section, up to SCAN_CHARS of text (a huge article stays fast)."""
    found = []
    scanned = 0
    for number, paragraph in enumerate(paragraphs):
        if scanned >= SCAN_CHARS:
            break
        paragraph = paragraph[:SCAN_CHARS - scanned]
        scanned += len(paragraph)
        # most paragraphs match nothing: a substring test, then a cheap analysis, before marking
        marked = matcher.may_match(paragraph) and any_term_matches(paragraph, matches)
        for text in split_sentences(paragraph):
            matched, hits = mark(text, matches) if marked and matcher.may_match(text) else (frozenset(), ())
            found.append(_Sentence(text, matched, hits, number))
    return found


def _join(section: str, sentences: list[_Sentence], matched: int) -> Snippet:
    text_parts: list[str] = []
    highlights: list[Span] = []
    offset = 0
    for sentence in sentences:
        highlights.extend((offset + s, offset + e) for s, e in sentence.hits)
        text_parts.append(sentence.text)
        offset += len(sentence.text) + 1
    return Snippet(section, " ".join(text_parts), tuple(highlights), matched)


def make_snippets(article: Article, matcher: TermMatcher, count: int = 3, context: int = 1) -> tuple[Snippet, ...]:
    """Up to `count` snippets, best first; no sentence appears twice.

    With no sentence matching (a headline-only match), the article's lead sentence is shown.
    """
    if count <= 0:
        return ()
    matches = lru_cache(maxsize=None)(matcher)  # an article repeats its words: ask once per word
    sections = {name: _sentences(article.section_text(name), matcher, matches) for name in SNIPPET_SECTIONS}
    candidates = sorted(
        ((len(s.matched), len(s.hits), order, name, index)
         for order, name in enumerate(SNIPPET_SECTIONS)
         for index, s in enumerate(sections[name]) if s.matched),
        key=lambda c: (-c[0], -c[1], c[2], c[4]),
    )
    used: dict[str, set[int]] = {name: set() for name in SNIPPET_SECTIONS}
    snippets: list[Snippet] = []
    for distinct, _, _, name, index in candidates:
        if len(snippets) >= count:
            break
        if index in used[name]:
            continue
        sentences = sections[name]

        def joins(neighbour: int) -> bool:
            """Context may cross paragraphs in the body; bullets and captions stand alone."""
            return neighbour not in used[name] and (
                name == "body" or sentences[neighbour].paragraph == sentences[index].paragraph
            )

        first = index
        while first > 0 and index - first < context and joins(first - 1):
            first -= 1
        last = index
        while last + 1 < len(sentences) and last - index < context and joins(last + 1):
            last += 1
        used[name].update(range(first, last + 1))
        snippets.append(_join(name, sentences[first:last + 1], distinct))
    if not snippets:
        for name in SNIPPET_SECTIONS:
            if sections[name]:
                return (_join(name, sections[name][: 1 + context], 0),)
    return tuple(snippets)
