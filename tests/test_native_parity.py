"""The native analyzer (native/, `pip install ./native`) against the Python reference in indexer/analysis.py
(and did-you-mean's edit distances against indexer/query_tree.py).

Both must give identical terms, positions and character offsets: on every distinct word of the real
corpora the benchmark is made of (BBC, Reuters-21578, Daily Mail, and the 18F posts), on whole
articles, on every Unicode code point, and on generated text. An index built with one is searched
with the other, so a single difference would lose hits. Skipped when the extension is not installed;
CI installs it and sets ARTICLE_SEARCH_NATIVE=on, which makes a missing extension an error.
"""
from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import analysis
from indexer.analysis import WORD_RE, matching_words, python_analysed_text, python_tokens
from indexer.query_tree import python_within_edits, within_edits
from query import snippets
from query.syntax import TermMatcher, parse

from conftest import BBC, CORPORA, DAILYMAIL

NATIVE = analysis.NATIVE
pytestmark = pytest.mark.skipif(NATIVE is None, reason="native analyzer not installed (pip install ./native)")


@lru_cache(maxsize=1)
def corpus_texts() -> dict[str, tuple[str, ...]]:
    """Every article text of each corpus, as read raw (a superset of what the readers keep)."""
    reuters = [part for sgm in sorted((CORPORA / "reuters21578").glob("*.sgm"))
               for part in sgm.read_bytes().decode("latin-1").split("</REUTERS>")]
    dailymail = []
    for path in sorted(DAILYMAIL.glob("*.jsonl")):
        with open(path, encoding="utf-8") as stream:
            for line in stream:
                record = json.loads(line)
                dailymail.append("\n\n".join([record.get("headline") or "", *(record.get("highlights") or []), record.get("body") or ""]))
    return {
        "bbc": tuple(p.read_text(encoding="utf-8", errors="replace") for p in sorted(BBC.rglob("*.txt"))),
        "18f": tuple(p.read_text(encoding="utf-8") for p in sorted((CORPORA / "markdown_18f").rglob("*.md"))),
        "reuters": tuple(reuters),
        "dailymail": tuple(dailymail),
    }


def native_tokens(text: str) -> list[tuple[str, int, int, int]]:
    return [tuple(t) for t in NATIVE.tokens(text)]  # type: ignore[union-attr]


def reference_tokens(text: str) -> list[tuple[str, int, int, int]]:
    return [tuple(t) for t in python_tokens(text)]


@lru_cache(maxsize=1)
def vocabulary() -> list[str]:
    """Every distinct word of the real corpora."""
    return sorted({word for texts in corpus_texts().values() for text in texts for word in WORD_RE.findall(text)})


def test_every_distinct_word_of_the_real_corpora() -> None:
    words = vocabulary()
    assert len(words) > 200_000  # the whole vocabulary, not a sample
    differences = [w for w in words if native_tokens(w) != reference_tokens(w)]
    print(f"{len(words):,} distinct words, {len(differences)} differences", file=sys.stderr)
    assert differences == []
    # the same words with a possessive and in capitals, as they appear in headlines
    assert [w for w in words[::7] if native_tokens(f"{w.upper()}'S {w}’s") != reference_tokens(f"{w.upper()}'S {w}’s")] == []


def test_every_word_is_found_by_a_matcher_of_its_term_or_first_letter() -> None:
    """The native matcher skips, unanalysed, a word whose first letter no query term starts with
    (Snowball keeps a word's first letter): every word of the real corpora is still found by a
    matcher of the term it analyses to, and by one of that term's first letter as a prefix."""
    missed = []
    for word in vocabulary():
        term = analysis.analyze_word(word)
        if term is None:
            continue
        exact, prefix = analysis.native_word_matcher([term], []), analysis.native_word_matcher([], [term[0]])
        assert exact is not None and prefix is not None
        if exact(word) != [(term, (0, len(word)))] or prefix(word) != [(term, (0, len(word)))]:
            missed.append(word)
    assert missed == []


@pytest.mark.parametrize("corpus, terms_every, tokens_every", [
    ("bbc", 1, 1), ("18f", 1, 1), ("reuters", 1, 10), ("dailymail", 5, 50),
])
def test_whole_articles_give_the_same_terms_positions_and_offsets(corpus: str, terms_every: int, tokens_every: int) -> None:
    """Terms of whole articles, and their positions and offsets; the Daily Mail (131 MB) in part, to
    keep CI short: its every word is compared above."""
    texts = corpus_texts()[corpus]
    assert len(texts) > 500
    assert [i for i, t in enumerate(texts[::terms_every]) if NATIVE.analysed_text(t) != python_analysed_text(t)] == []  # type: ignore[union-attr]
    assert [i for i, t in enumerate(texts[::tokens_every]) if native_tokens(t) != reference_tokens(t)] == []


def test_every_code_point_is_a_word_character_or_not_as_in_python() -> None:
    characters = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for joiner in (" ", "'", "’", "a", "_"):
        text = joiner.join(characters)
        assert native_tokens(text) == reference_tokens(text), repr(joiner)


def test_the_public_functions_use_it_and_fall_back_on_lone_surrogates() -> None:
    text = "The Bank of England's café \ud800 rates"  # a lone surrogate cannot cross into Rust
    assert list(analysis.tokens(text)) == list(python_tokens(text))
    assert analysis.analysed_text(text) == python_analysed_text(text) == "bank england cafe rate"
    clean = "The Bank of England’s café rates rose"
    assert list(analysis.tokens(clean)) == list(python_tokens(clean))
    assert analysis.terms(clean) == ["bank", "england", "cafe", "rate", "rose"]


def test_it_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTICLE_SEARCH_NATIVE", "off")
    assert analysis._load_native() is None
    monkeypatch.setenv("ARTICLE_SEARCH_NATIVE", "on")
    assert analysis._load_native() is not None


WORDISH = st.text(alphabet=st.sampled_from("aAbeEiIsSyY019 '’_-.\u00e9\u00c9\u0301\u00df\u0130\u03a3\u2019\u00bd\u0663\u2160\u00ad\n"), max_size=60)


@settings(max_examples=3000, deadline=None)
@given(WORDISH)
def test_generated_text(text: str) -> None:
    assert native_tokens(text) == reference_tokens(text)
    assert NATIVE.analysed_text(text) == python_analysed_text(text)  # type: ignore[union-attr]
    matcher = TermMatcher(parse("bee is* 9 eyes").root)
    assert list(matcher.native(text)) == reference_matches(text, matcher)  # type: ignore[misc]


def test_did_you_mean_keeps_the_same_terms_on_the_real_vocabulary() -> None:
    """The edit distances counted natively against the Python reference: misspellings of real terms
    (a letter dropped, two swapped, one changed) against every term of their first letter."""
    terms = sorted({term for word in vocabulary() if (term := analysis.analyze_word(word))})
    by_letter: dict[str, list[str]] = {}
    for term in terms:
        by_letter.setdefault(term[0], []).append(term)
    differences = []
    for term in terms[::2000]:
        for typo in {term[:-1], term[0] + term[2:3] + term[1:2] + term[3:], term[:2] + "x" + term[3:]}:
            for edits in (1, 2):
                if within_edits(typo, by_letter[term[0]], edits) != python_within_edits(typo, by_letter[term[0]], edits):
                    differences.append((typo, edits))
    assert differences == []


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="abcé\u0301ß", max_size=8), st.lists(st.text(alphabet="abcé\u0301ß", max_size=10), max_size=20), st.integers(0, 3))
def test_did_you_mean_keeps_the_same_terms_on_generated_words(term: str, candidates: list[str], edits: int) -> None:
    assert within_edits(term, candidates, edits) == python_within_edits(term, candidates, edits)


def test_an_extension_built_before_edit_distances_leaves_them_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    import article_search_native

    assert analysis._native_within_edits() is article_search_native.within_edits
    monkeypatch.delattr(article_search_native, "within_edits")
    assert analysis._native_within_edits() is None


def test_did_you_mean_falls_back_on_lone_surrogates() -> None:
    assert within_edits("rate", ["rat\ud800", "rates", "rate"], 1) == python_within_edits("rate", ["rat\ud800", "rates", "rate"], 1) == ["rat\ud800", "rates"]


def reference_matches(text: str, matcher: TermMatcher) -> list[tuple[str, tuple[int, int]]]:
    """The matching words as the reference analyzer finds them, every word analysed."""
    return list(zip(*matching_words(text, matcher)))


@pytest.mark.parametrize("corpus", ["bbc", "18f", "reuters", "dailymail"])
def test_matching_words_of_whole_articles_are_the_same(corpus: str) -> None:
    """The native matching-word scan (snippets, BM25F rescoring and proximity read it from every hit)
    against the reference, and against the Python substring scan it replaces, for queries made of
    each article's own words: three words, one of them as a prefix."""
    texts = corpus_texts()[corpus][::10]
    assert len(texts) > 50
    differences = []
    for number, text in enumerate(texts):
        terms = [t for t in analysis.terms(text) if len(t) > 3][number % 7::41][:3]
        if not terms:
            continue
        query = " ".join([*terms[:-1], terms[-1][:4] + "*"])
        matcher = TermMatcher(parse(query).root)
        assert matcher.native is not None
        reference = reference_matches(text, matcher)
        if list(matcher.native(text)) != reference or list(snippets._scanned_words(text, matcher, matcher)) != reference:
            differences.append((number, query))
    assert differences == []


def test_matching_words_fall_back_on_lone_surrogates_and_fuzzy_words() -> None:
    matcher = TermMatcher(parse("bank rates").root)
    text = "Bank \ud800 rates and the bank's rate"
    assert list(snippets._matching_words(text, matcher, matcher)) == reference_matches(text, matcher) == [
        ("bank", (0, 4)), ("rate", (7, 12)), ("bank", (21, 27)), ("rate", (28, 32))]
    assert TermMatcher(parse("bank~").root).native is None  # edit distances are tested in Python
