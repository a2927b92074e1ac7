"""The one analyzer used for indexing and for querying, by every engine.

Unicode word tokens, lowercased, accents folded, possessive 's removed, English stop words dropped,
Snowball English stems (PyStemmer, a C implementation). Each surface word is analysed once and cached,
because news text repeats the same words endlessly.

The optional native analyzer (`pip install ./native`, a Rust extension) gives the same terms, positions
and offsets faster (tests/test_native_parity.py); it is used when installed, and ARTICLE_SEARCH_NATIVE=off
turns it off (=on makes it required). The Python functions here are the reference and the fallback.
"""
from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache
from itertools import compress
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple

import Stemmer

from .models import SECTIONS, Article

# Lucene's English stop set: short, and free of words that carry meaning in news ("us", "IS").
STOP_WORDS: frozenset[str] = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with".split()
)

# A word: letters/digits (Unicode), possibly joined by apostrophes (don't, O'Neill, group's).
WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_POSSESSIVE_RE = re.compile(r"['’]s$")

_stemmer = Stemmer.Stemmer("english")

#: Raise whenever a change in this module gives other terms for the same text (tokenizing, folding,
#: normalising): every index records it with the stemmer and stop words (indexer.generations.Analysis),
#: and an index built by another analysis must be rebuilt, not searched or updated with this one.
VERSION = 1
STEMMER = f"snowball english, PyStemmer {Stemmer.version()}"


class Token(NamedTuple):
    """An analysed term with its position (among kept terms) and character span in the text."""

    term: str
    position: int
    start: int
    end: int


def fold(word: str) -> str:
    """Lowercase, drop possessive 's and apostrophes, fold accents (café -> cafe)."""
    word = _POSSESSIVE_RE.sub("", word.lower())
    word = word.replace("'", "").replace("’", "")
    if not word.isascii():
        decomposed = unicodedata.normalize("NFKD", word)
        word = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return word


@lru_cache(maxsize=500_000)
def analyze_word(word: str) -> str | None:
    """The index term for one surface word, or None for a stop word."""
    folded = fold(word)
    if not folded or folded in STOP_WORDS:
        return None
    return _stemmer.stemWord(folded)


def python_tokens(text: str) -> Iterator[Token]:
    """Analysed tokens of a text, positions counted over kept terms only (the reference implementation).

    Counting positions after stop-word removal lets a phrase like "bank of england" match
    "Bank of England" on every engine alike.
    """
    position = 0
    for match in WORD_RE.finditer(text):
        term = analyze_word(match.group())
        if term is not None:
            yield Token(term, position, match.start(), match.end())
            position += 1


def terms(text: str) -> list[str]:
    """The analysed terms of a text, in order."""
    return [t.term for t in tokens(text)]


def python_analysed_text(text: str) -> str:
    """The analysed terms of a text joined by single spaces (the indexing fast path; the reference implementation).

    Same terms and order as `terms`, so a whitespace tokenizer gives the same positions; the
    per-word loop runs in C (`map`, `filter`, `str.join`) instead of yielding `Token`s.
    """
    return " ".join(filter(None, map(analyze_word, WORD_RE.findall(text))))


def _load_native() -> object | None:
    """The native analyzer when installed, built against this Python's Unicode database, and not turned off."""
    wanted = os.environ.get("ARTICLE_SEARCH_NATIVE", "").strip().lower()
    if wanted in ("off", "0", "no", "false"):
        return None
    try:
        import article_search_native as native
    except ImportError:
        if wanted == "on":
            raise
        return None
    if native.UNIDATA_VERSION != unicodedata.unidata_version:  # its word characters would differ
        if wanted == "on":
            raise ImportError(f"article_search_native was built for Unicode {native.UNIDATA_VERSION}, "
                              f"this Python has {unicodedata.unidata_version}: reinstall it (pip install ./native)")
        return None
    return native.Analyzer(sorted(STOP_WORDS), analyze_word)


#: The native analyzer (article_search_native.Analyzer) or None: asks `analyze_word` about words with
#: letters beyond ASCII, so accents fold exactly as here.
NATIVE = _load_native()


def _native_within_edits() -> Callable[[str, list[str], int], list[int]] | None:
    """None too for an extension built from an older native/ (without it): Python counts them then."""
    if NATIVE is None:
        return None
    import article_search_native

    return getattr(article_search_native, "within_edits", None)


#: With the native analyzer, `article_search_native.within_edits(term, candidates, max_edits)`: the
#: positions of the candidates `indexer.query_tree.within_edits` keeps (it raises UnicodeEncodeError
#: on lone surrogates); else None.
NATIVE_WITHIN_EDITS = _native_within_edits()


def tokens(text: str) -> Iterator[Token]:
    """Analysed tokens of a text, positions counted over kept terms only.

    Counting positions after stop-word removal lets a phrase like "bank of england" match
    "Bank of England" on every engine alike.
    """
    if NATIVE is not None:
        try:
            return map(Token._make, NATIVE.tokens(text))  # type: ignore[attr-defined]
        except UnicodeEncodeError:  # lone surrogates: a Rust string cannot hold them
            pass
    return python_tokens(text)


def analysed_text(text: str) -> str:
    """The analysed terms of a text joined by single spaces (the indexing fast path)."""
    if NATIVE is not None:
        try:
            return NATIVE.analysed_text(text)  # type: ignore[attr-defined,no-any-return]
        except UnicodeEncodeError:
            pass
    return python_analysed_text(text)


def native_word_matcher(exact: Iterable[str], prefixes: Iterable[str]) -> Callable[[str], list[tuple[str, tuple[int, int]]]] | None:
    """With the native analyzer, a scan that gives (term, span) of each word of a text whose term is
    one of `exact` or starts with one of `prefixes`, as `matching_words` does (it raises
    UnicodeEncodeError on lone surrogates); None without it."""
    if NATIVE is None:
        return None
    import article_search_native

    return article_search_native.WordMatcher(NATIVE, sorted(exact), list(prefixes)).matching  # type: ignore[no-any-return]


def matching_words(text: str, predicate: Callable[[str], bool]) -> tuple[list[str], list[tuple[int, int]]]:
    """The analysed terms of the words of a text that satisfy the predicate, and the words' spans.

    For highlighting: the words are found and analysed in C (`findall`, `map`, `compress`); only
    the test of each term and the matching words are handled in Python.
    """
    terms = list(map(analyze_word, WORD_RE.findall(text)))
    flags = [term is not None and predicate(term) for term in terms]
    return list(compress(terms, flags)), [match.span() for match in compress(WORD_RE.finditer(text), flags)]


def any_term_matches(text: str, predicate: Callable[[str], bool]) -> bool:
    """True if any analysed term of the text satisfies the predicate (a quick test, loops in C)."""
    return any(map(predicate, set(filter(None, map(analyze_word, WORD_RE.findall(text))))))


def search_key(text: str) -> str:
    """Text folded for a quick substring test with `term_key`: lower-case, accents and every other
    non-ASCII character dropped, apostrophes removed (C-speed string methods, no word analysis)."""
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return text.replace("'", "")


def term_key(term: str) -> str | None:
    """A string that `search_key(text)` contains whenever a word of `text` analyses to `term`; None
    when there is no such guarantee (terms with non-ASCII letters).

    Snowball English keeps a word's letters as its stem, except at the end: a final i, e, l or y may
    not be in the word (company -> compani, rising -> rise, possibility -> possibl, skies -> sky), nor
    the "ie" of dying/lying/tying/vying -> die/lie/tie/vie. Checked on every word of the 48k-article
    benchmark corpus (200,000 distinct words).
    """
    if not term.isascii():
        return None
    if term.endswith("ie"):
        return term[:-2]
    return term[:-1] if term[-1:] in ("e", "i", "l", "y") else term


def section_terms(article: Article) -> dict[str, str]:
    """Each searchable section of an article as space-joined analysed terms.

    Paragraphs are joined so positions run on across them, as when a section is analysed whole.
    """
    return {name: analysed_text("\n".join(article.section_text(name))) for name in SECTIONS}


def article_terms(article: Article) -> Mapping[str, str]:
    """The analysed sections: precomputed when the article carries them (`indexer.parallel.AnalysedArticle`),
    else computed now."""
    terms_ = getattr(article, "terms", None)
    return terms_ if terms_ is not None else section_terms(article)


# Characters that join or hyphenate invisibly inside a word (soft hyphen, zero-width joiners,
# word joiner, BOM): removed, so "gib\u00adraltar" is one word in articles and queries alike.
_INVISIBLE_RE = re.compile("[\u00ad\u200c\u200d\u2060\ufeff]")


def normalize(text: str) -> str:
    """Canonical composed Unicode (NFC) without invisible joiners: decomposed text (e + U+0301, as
    macOS writes it) would otherwise split words at the combining mark."""
    if text.isascii():
        return text
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return _INVISIBLE_RE.sub("", text) if _INVISIBLE_RE.search(text) else text
