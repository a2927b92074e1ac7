"""Ranked snippets: the sentences with the most distinct query terms, with context around them.

Works on stored article text with the index's own analyzer, so every engine gets the same snippets
and long bodies are covered to the end.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator

from indexer.analysis import WORD_RE, analyze_word, matching_words
from indexer.models import Article

from .models import Snippet, Span
from .syntax import TermMatcher

SNIPPET_SECTIONS: tuple[str, ...] = ("bullets", "body", "captions")
# A sentence ends at . ! ? or … and the closing quotes or brackets after it, before space and a likely start.
_SENTENCE_END_RE = re.compile(r"""(?<=[.!?…])(['"’”)\]]*)\s+(?=["'‘“(\[]?[A-Z0-9])""")
# A full stop that ends a common abbreviation (Mr., Dr., No. 10), an initial (J. K.) or dotted letters
# (U.S., e.g.) does not end the sentence.
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st sen rep gov gen col lt sgt capt cmdr adm maj supt insp det jr sr rev hon fr "
    "no nos vs v etc inc ltd co corp plc bros dept univ est approx fig ch vol op pp ed eds mt ft ave rd blvd "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_LAST_WORD_RE = re.compile(r"(?:^|[\s(\[\"'‘“])([\w.]+)\.$")
#: A "sentence" longer than this (a paragraph without full stops) is cut at words into pieces this long,
#: so that a snippet shows a few hundred characters around its matches whatever the article.
MAX_SENTENCE_CHARS = 300


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
#: Of those, sentences holding a query word are marked (the costly part) up to this many characters:
#: more than any real article holds, while a 9 MB paragraph of matching words costs a hit 0.2 s, not 0.8 s.
MARK_CHARS = 200_000
#: And of at most this many paragraphs (the most in a Daily Mail body is 1,201): an article of a million
#: one-line bullets costs a hit about 0.1 s of snippet work instead of 5 s.
SCAN_PARAGRAPHS = 5_000


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of a paragraph, closing quotes kept with their sentence, none ended by an abbreviation
    (a heuristic: "in the U.S. The" stays one sentence); a long one comes in pieces of MAX_SENTENCE_CHARS."""
    parts, start = [], 0
    for match in _SENTENCE_END_RE.finditer(paragraph):
        end = match.start() + len(match.group(1))
        if not match.group(1) and _abbreviation(paragraph[max(start, match.start() - 40):match.start()]):
            continue
        parts.append(paragraph[start:end].strip())
        start = match.end()
    parts.append(paragraph[start:].strip())
    return [piece for part in parts if part for piece in _pieces(part)]


def _abbreviation(before: str) -> bool:
    """True when the text before a full stop ends with an abbreviation, an initial or dotted letters."""
    found = _LAST_WORD_RE.search(before)
    if found is None:
        return False
    word = found.group(1)
    return len(word) == 1 or "." in word or word.lower() in ABBREVIATIONS


def _pieces(sentence: str) -> list[str]:
    """The sentence, or pieces of it at most MAX_SENTENCE_CHARS long, cut at spaces where there are any."""
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return [sentence]
    pieces, start = [], 0
    while len(sentence) - start > MAX_SENTENCE_CHARS:
        cut = sentence.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS + 1)
        cut = cut if cut > 0 else start + MAX_SENTENCE_CHARS
        pieces.append(sentence[start:cut].strip())
        start = cut
    return [p for p in pieces + [sentence[start:].strip()] if p]


@lru_cache(maxsize=1024)
def _candidate_pattern(keys: frozenset[str]) -> re.Pattern[str] | None:
    """Where a word that matches the query can be: one of the query's keys (`TermMatcher.keys`) in any
    case, a word character beyond ASCII (café analyses to "cafe"), or an apostrophe inside a word
    (don't to "dont"). Every other word is ASCII letters and digits, its folded form is its lower case,
    which contains the key of its term (`indexer.analysis.term_key`). None when a key is not all ASCII
    letters and digits: then a key could span two words, and every word is analysed instead."""
    if not keys or not all(key.isascii() and key.isalnum() for key in keys):
        return None
    alternation = "|".join(sorted(map(re.escape, keys), key=len, reverse=True))
    return re.compile(rf"(?i:{alternation})|[^\W_\x00-\x7f]|(?<=[^\W_])['’](?=[^\W_])")


def _matching_words(text: str, matcher: TermMatcher, matches: Callable[[str], bool]) -> Iterator[tuple[str, Span]]:
    """(term, span) of each word of the text whose term matches, in order, as `matching_words` gives
    them, but only the words at a candidate of `_candidate_pattern` are analysed (3x faster per hit)."""
    pattern = _candidate_pattern(matcher.keys) if matcher.keys is not None else None
    if pattern is None:
        yield from zip(*matching_words(text, matches))
        return
    end = 0
    for candidate in pattern.finditer(text):
        start = candidate.start()
        if start < end:  # in the word just looked at
            continue
        while start:  # back to the word's first character, across apostrophes that join it
            if text[start - 1].isalnum():
                start -= 1
            elif text[start - 1] in "'’" and start > 1 and text[start - 2].isalnum():
                start -= 2
            else:
                break
        word = WORD_RE.match(text, start)
        if word is None:
            continue
        end = word.end()
        term = analyze_word(word.group())
        if term is not None and matches(term):
            yield term, word.span()


def mark(text: str, matcher: TermMatcher, matches: Callable[[str], bool] | None = None) -> tuple[frozenset[str], tuple[Span, ...]]:
    """Distinct matched terms and the character spans of matching words in a text (`matches`: the
    matcher, or a cached version of it)."""
    found = list(_matching_words(text, matcher, matches or matcher))
    return frozenset(term for term, _ in found), tuple(span for _, span in found)


def _sentences(paragraphs: tuple[str, ...], matcher: TermMatcher, matches: Callable[[str], bool]) -> list[_Sentence]:
    """The marked sentences of a section, up to SCAN_CHARS of text (a huge article stays fast)."""
    found = []
    scanned = marked_chars = 0
    for number, paragraph in enumerate(paragraphs[:SCAN_PARAGRAPHS]):
        if scanned >= SCAN_CHARS:
            break
        paragraph = paragraph[:SCAN_CHARS - scanned]
        scanned += len(paragraph)
        # most paragraphs match nothing: a substring test, then a cheap analysis, before marking
        marked = matcher.may_match(paragraph) and next(_matching_words(paragraph, matcher, matches), None) is not None
        for text in split_sentences(paragraph):
            if marked and marked_chars < MARK_CHARS and matcher.may_match(text):
                marked_chars += len(text)
                matched, hits = mark(text, matcher, matches)
            else:
                matched, hits = frozenset(), ()
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
