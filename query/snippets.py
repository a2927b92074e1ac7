"""Ranked snippets: the sentences with the most distinct query terms, with context around them.

Works on stored article text with the index's own analyzer, so every engine gets the same snippets
and long bodies are covered to the end.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple

from indexer.analysis import WORD_RE, analyze_word, matching_words
from indexer.models import Article

from .models import Snippet, Span
from .syntax import TermMatcher

SNIPPET_SECTIONS: tuple[str, ...] = ("bullets", "body", "captions")
# A sentence ends at . ! ? or … and the closing quotes or brackets after it, before space and a likely start.
# (The punctuation is matched, not looked behind for: the search then skips to it, 1.7x faster.)
_SENTENCE_END_RE = re.compile(r"""[.!?…](['"’”)\]]*)\s+(?=["'‘“(\[]?[A-Z0-9])""")
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


class _Sentence(NamedTuple):
    """A sentence of a section and its matches (a tuple: a hit makes hundreds of them)."""

    text: str
    matched: frozenset[str]
    hits: tuple[Span, ...]
    paragraph: int


#: A paragraph with words that match the query: its number in its section (of `scanned_paragraphs`),
#: its text, and those words as (index term, span in the paragraph), as `paragraph_matches` gives them.
Paragraph = tuple[int, str, list[tuple[str, Span]]]

#: Where a sentence is in its section: (paragraph number, sentence number in the paragraph); these
#: order as the sentences do.
_Place = tuple[int, int]


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
    return [paragraph[start:end] for start, end in _sentence_spans(paragraph)[0]]


def _sentence_spans(paragraph: str) -> tuple[list[Span], bool]:
    """Where the sentences of `split_sentences` are in the paragraph, and whether a long one was cut
    where it has no space (only there can a word be split between two sentences)."""
    spans: list[Span] = []
    start = 0
    cut_in_word = False
    for match in _SENTENCE_END_RE.finditer(paragraph):
        stop, end = match.span(1)  # after the punctuation; after the closing quotes
        if stop == end and _abbreviation(paragraph[max(start, stop - 40):stop]):
            continue
        cut_in_word |= _pieces(paragraph, start, end, spans)
        start = match.end()
    cut_in_word |= _pieces(paragraph, start, len(paragraph), spans)
    return spans, cut_in_word


def _abbreviation(before: str) -> bool:
    """True when the text before a full stop ends with an abbreviation, an initial or dotted letters."""
    found = _LAST_WORD_RE.search(before)
    if found is None:
        return False
    word = found.group(1)
    return len(word) == 1 or "." in word or word.lower() in ABBREVIATIONS


def _stripped(text: str, start: int, end: int) -> Span:
    """The span of text[start:end].strip() in the text (sentences rarely start or end with a space)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _pieces(text: str, start: int, end: int, spans: list[Span]) -> bool:
    """Add the span of the sentence text[start:end], stripped, or of pieces of it at most
    MAX_SENTENCE_CHARS long, cut at spaces where there are any; True if one was cut elsewhere."""
    start, end = _stripped(text, start, end)
    if end - start <= MAX_SENTENCE_CHARS:
        if start < end:
            spans.append((start, end))
        return False
    cut_in_word = False
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS + 1)
        if cut < 0:
            cut, cut_in_word = start + MAX_SENTENCE_CHARS, True
        piece = _stripped(text, start, cut)
        if piece[0] < piece[1]:
            spans.append(piece)
        start = cut
    piece = _stripped(text, start, end)
    if piece[0] < piece[1]:
        spans.append(piece)
    return cut_in_word


#: A word character beyond ASCII: its word may fold to a key it does not contain (café to "cafe").
_NON_ASCII_WORD_RE = re.compile(r"[^\W_\x00-\x7f]")


@lru_cache(maxsize=1024)
def _findable(keys: frozenset[str]) -> bool:
    """Whether `_candidates` can find the words with these keys: not when a key is not all ASCII
    letters and digits (it could span two words); every word is analysed instead."""
    return bool(keys) and all(key.isascii() and key.isalnum() for key in keys)


def _candidates(text: str, keys: frozenset[str]) -> list[int] | None:
    """Where a word that matches the query can be, in order: one of the query's keys (`TermMatcher.keys`)
    in any case, a word character beyond ASCII (café analyses to "cafe"), or an apostrophe (don't to
    "dont"). Every other word is ASCII letters and digits, its folded form is its lower case, which
    contains the key of its term (`indexer.analysis.term_key`). Found by `str.find` on the lower-cased
    text: a regular expression of the same alternatives took 190 ns per character, most of a hit's
    snippet work. None when lower-casing changes the text's length (İ): every word is analysed."""
    lowered = text.lower()
    if len(lowered) != len(text):
        return None
    found = [] if text.isascii() else [match.start() for match in _NON_ASCII_WORD_RE.finditer(text)]
    for needle, haystack in [*((key, lowered) for key in keys), ("'", text), ("’", text)]:
        at = haystack.find(needle)
        while at >= 0:
            found.append(at)
            at = haystack.find(needle, at + 1)
    found.sort()
    return found


def _matching_words(text: str, matcher: TermMatcher, matches: Callable[[str], bool]) -> Iterable[tuple[str, Span]]:
    """(term, span) of each word of the text whose term matches, in order, as `matching_words` gives
    them: by the native analyzer when installed, else `_scanned_words`."""
    if matcher.native is not None:
        try:
            return matcher.native(text)
        except UnicodeEncodeError:  # lone surrogates: a Rust string cannot hold them
            pass
    return _scanned_words(text, matcher, matches)


def _scanned_words(text: str, matcher: TermMatcher, matches: Callable[[str], bool]) -> Iterator[tuple[str, Span]]:
    """`_matching_words` in Python: only the words at one of the `_candidates` are analysed."""
    keys = matcher.keys
    candidates = _candidates(text, keys) if keys is not None and _findable(keys) else None
    if candidates is None:
        yield from zip(*matching_words(text, matches))
        return
    end = 0
    for start in candidates:
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
        if word is None or start < end:  # not at a word, or at an apostrophe after the word just looked at
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


def paragraph_matches(paragraph: str, matcher: TermMatcher, matches: Callable[[str], bool] | None = None) -> list[tuple[str, Span]]:
    """The words of a paragraph that match the query, as (term, span) in order, found as snippets find
    them (`query.proximity` counts and places them); none when the substring test rules them out."""
    if matcher.native is None and not matcher.may_match(paragraph):
        return []
    return list(_matching_words(paragraph, matcher, matches or matcher))


def matched_paragraphs(paragraphs: list[str], matcher: TermMatcher, matches: Callable[[str], bool]) -> list[Paragraph]:
    """The paragraphs (of `scanned_paragraphs`) with words that match, numbered, with those words."""
    return [(number, paragraph, words) for number, paragraph in enumerate(paragraphs)
            if (words := paragraph_matches(paragraph, matcher, matches))]


def sentence_terms(paragraph: str, found: list[tuple[str, Span]]) -> Iterator[frozenset[str]]:
    """The distinct matched terms of each sentence of the paragraph that has any, from its `paragraph_matches`."""
    return (sentence.matched for sentence in _marked(paragraph, 0, _sentence_spans(paragraph)[0], found) if sentence.matched)


def scanned_paragraphs(paragraphs: tuple[str, ...]) -> list[str]:
    """The paragraphs of a section that are looked at: at most SCAN_PARAGRAPHS of them and SCAN_CHARS
    characters in all, the last one cut there."""
    kept, scanned = [], 0
    for paragraph in paragraphs[:SCAN_PARAGRAPHS]:
        if scanned >= SCAN_CHARS:
            break
        kept.append(paragraph[:SCAN_CHARS - scanned])
        scanned += len(kept[-1])
    return kept


class _Section:
    """A section's sentences, marked where they match, split from their paragraphs only when needed.

    Most paragraphs of a hit match nothing: they are split into sentences only when a snippet's
    context or the lead reaches them (splitting every paragraph was a third of a hit's snippet work).
    Up to SCAN_CHARS of text is looked at (a huge article stays fast).
    """

    def __init__(self, paragraphs: tuple[str, ...], matcher: TermMatcher, matches: Callable[[str], bool],
                 found: list[Paragraph] | None = None) -> None:
        """`found`: the section's paragraphs with matching words, when the ranking found them already."""
        self.paragraphs = scanned_paragraphs(paragraphs)  # the last one cut at SCAN_CHARS
        self.split: dict[int, list[_Sentence]] = {}  # paragraph number -> its sentences, once split
        if sum(map(len, self.paragraphs)) > MARK_CHARS:
            self._mark_within_budget(matcher, matches)
            return
        for number, paragraph, words in matched_paragraphs(self.paragraphs, matcher, matches) if found is None else found:
            spans, cut_in_word = _sentence_spans(paragraph)
            self.split[number] = (_marked(paragraph, number, spans, words) if not cut_in_word else
                                  [_Sentence(text, *mark(text, matcher, matches), number) for text in split_sentences(paragraph)])

    def _mark_within_budget(self, matcher: TermMatcher, matches: Callable[[str], bool]) -> None:
        """Mark the sentences with matches, until MARK_CHARS of sentences have been marked (a section
        this long is no real article: its cost is bounded, not its snippets made best)."""
        marked_chars = 0
        for number, paragraph in enumerate(self.paragraphs):
            if not (matcher.may_match(paragraph) and next(iter(_matching_words(paragraph, matcher, matches)), None) is not None):
                continue
            sentences = []
            for text in split_sentences(paragraph):
                if marked_chars < MARK_CHARS and matcher.may_match(text):
                    marked_chars += len(text)
                    matched, hits = mark(text, matcher, matches)
                else:
                    matched, hits = frozenset(), ()
                sentences.append(_Sentence(text, matched, hits, number))
            self.split[number] = sentences

    def matched(self) -> Iterator[tuple[_Place, _Sentence]]:
        """The sentences with a matching word, in order."""
        for number, sentences in sorted(self.split.items()):
            for index, sentence in enumerate(sentences):
                if sentence.matched:
                    yield (number, index), sentence

    def sentences(self, number: int) -> list[_Sentence]:
        """The sentences of a scanned paragraph (none for a blank one)."""
        found = self.split.get(number)
        if found is None:
            found = self.split[number] = [_Sentence(text, frozenset(), (), number) for text in split_sentences(self.paragraphs[number])]
        return found

    def sentence(self, place: _Place) -> _Sentence:
        return self.sentences(place[0])[place[1]]

    def neighbour(self, place: _Place, step: int, across: bool) -> _Place | None:
        """The sentence before (step -1) or after (step 1) `place`; in another paragraph only if `across`."""
        number, index = place
        if 0 <= index + step < len(self.sentences(number)):
            return number, index + step
        while across and 0 <= number + step < len(self.paragraphs):
            number += step
            if sentences := self.sentences(number):
                return number, 0 if step > 0 else len(sentences) - 1
        return None

    def lead(self, count: int) -> list[_Sentence]:
        """The first `count` sentences (across paragraphs)."""
        found: list[_Sentence] = []
        for number in range(len(self.paragraphs)):
            if len(found) >= count:
                break
            found += self.sentences(number)[:count - len(found)]
        return found


def _marked(paragraph: str, number: int, spans: list[Span], found: list[tuple[str, Span]]) -> list[_Sentence]:
    """The paragraph's sentences with the matching words `found` in the whole paragraph: the same as
    marking each sentence (`mark`) when no word is cut between two (sentences end at spaces), but
    every word is looked at once."""
    sentences = []
    at = 0
    for start, end in spans:
        terms, hits = [], []
        while at < len(found) and found[at][1][0] < end:
            term, (word_start, word_end) = found[at]
            terms.append(term)
            hits.append((word_start - start, word_end - start))
            at += 1
        sentences.append(_Sentence(paragraph[start:end], frozenset(terms), tuple(hits), number))
    return sentences


def _join(section: str, sentences: list[_Sentence], matched: int) -> Snippet:
    text_parts: list[str] = []
    highlights: list[Span] = []
    offset = 0
    for sentence in sentences:
        highlights.extend((offset + s, offset + e) for s, e in sentence.hits)
        text_parts.append(sentence.text)
        offset += len(sentence.text) + 1
    return Snippet(section, " ".join(text_parts), tuple(highlights), matched)


def make_snippets(article: Article, matcher: TermMatcher, count: int = 3, context: int = 1,
                  found: Mapping[str, list[Paragraph]] | None = None) -> tuple[Snippet, ...]:
    """Up to `count` snippets, best first; no sentence appears twice.

    With no sentence matching (a headline-only match), the article's lead sentence is shown. `found`:
    the article's paragraphs with words of this matcher's terms, per section, when the ranking found
    them already (`query.evidence`): they are not looked for again.
    """
    if count <= 0:
        return ()
    matches = lru_cache(maxsize=None)(matcher)  # an article repeats its words: ask once per word
    found = found or {}
    sections = {name: _Section(article.section_text(name), matcher, matches, found.get(name)) for name in SNIPPET_SECTIONS}
    candidates = sorted(
        ((len(s.matched), len(s.hits), order, name, place)
         for order, name in enumerate(SNIPPET_SECTIONS)
         for place, s in sections[name].matched()),
        key=lambda c: (-c[0], -c[1], c[2], c[4]),
    )
    used: dict[str, set[_Place]] = {name: set() for name in SNIPPET_SECTIONS}
    snippets: list[Snippet] = []
    for distinct, _, _, name, place in candidates:
        if len(snippets) >= count:
            break
        if place in used[name]:
            continue
        section = sections[name]
        around = [place]
        for step in (-1, 1):  # context may cross paragraphs in the body; bullets and captions stand alone
            at: _Place | None = place
            for _ in range(context):
                at = section.neighbour(at, step, across=name == "body")
                if at is None or at in used[name]:
                    break
                around.append(at)
        around.sort()
        used[name].update(around)
        snippets.append(_join(name, [section.sentence(p) for p in around], distinct))
    if not snippets:
        for name in SNIPPET_SECTIONS:
            if lead := sections[name].lead(1 + context):
                return (_join(name, lead, 0),)
    return tuple(snippets)
