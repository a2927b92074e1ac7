"""Snippets: best sentences first, context, no repeats, whole bodies covered."""
from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from indexer.analysis import WORD_RE, analyze_word, tokens
from indexer.models import Article
from query.snippets import make_snippets
from query.syntax import TermMatcher, Term, parse

from conftest import CORPORA


def snippets_for(article: Article, query: str, **options: int) -> list:
    return list(make_snippets(article, TermMatcher(parse(query).root), **options))


def test_a_word_at_the_end_of_a_very_long_body_is_found() -> None:
    filler = tuple(f"Paragraph {n} talks about weather and markets at length." for n in range(4000))
    article = Article(id="long", headline="Long read", body=filler + ("Finally the zeppelin landed safely.",))
    assert sum(map(len, article.body)) > 200_000  # far past whoosh's 32K highlighter default
    (best, *_) = snippets_for(article, "zeppelin")
    assert best.section == "body" and "zeppelin landed" in best.text
    assert [best.text[s:e] for s, e in best.highlights] == ["zeppelin"]


def test_more_distinct_terms_win_and_context_surrounds_them() -> None:
    article = Article(
        id="a", headline="H",
        body=("Rain fell. Floods hit the town. Police closed the bridge.", "Floods and rain closed the bridge. Later it reopened."),
    )
    snippets = snippets_for(article, "rain floods bridge", context=1)
    # the best sentence, with one sentence each side (body context may cross paragraphs)
    assert snippets[0].text == "Police closed the bridge. Floods and rain closed the bridge. Later it reopened."
    assert snippets[0].matched_terms == 3
    sentences = [s for snip in snippets for s in snip.text.split(". ")]
    assert len(sentences) == len(set(sentences))
    bare = snippets_for(article, "rain floods bridge", context=0)
    assert bare[0].text == "Floods and rain closed the bridge."


def _all_words(root: Path) -> set[str]:
    words: set[str] = set()
    for path in root.rglob("*.txt"):
        words.update(WORD_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
    return words


def test_the_quick_test_never_rejects_a_text_holding_a_matching_word() -> None:
    """`may_match` skips the analysis of paragraphs; a wrong skip would lose a highlight."""
    words = _all_words(CORPORA / "bbc") | {"dying", "Lying", "skies", "O'Neill's", "résumé", "Hafþór", "naïvely", "ﬁnance"}
    assert len(words) > 20_000
    for word in words:
        term = analyze_word(word)
        if term is None:
            continue
        text = f"Before it, «{word}» — after."
        for node in (Term(term), Term(term[:3], prefix=True)):
            assert TermMatcher(node).may_match(text), (word, node)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_the_quick_test_agrees_with_the_analyzer_on_any_text(text: str) -> None:
    for token in tokens(text):
        assert TermMatcher(Term(token.term)).may_match(text), (text, token.term)


def test_the_quick_test_rejects_paragraphs_without_the_words() -> None:
    matcher = TermMatcher(parse("jalalabad checkpoints").root)
    assert not matcher.may_match("Markets rose sharply in London on Monday.")
    assert matcher.may_match("Checkpoint guards in JALALABAD said so.")


SCAN_QUERIES = ("oil prices", '"prime minister"', "econom*", "don't", "O'Neill", "cafe", "goverment~", "ﬁnance", "Brexit trade deal", "play*")


def _every_word_analysed(monkeypatch: object) -> None:
    """Snippets made the reference way: every word of a sentence analysed, no candidate scan."""
    from query import snippets

    monkeypatch.setattr(snippets, "_findable", lambda keys: False)  # type: ignore[attr-defined]


def test_the_candidate_scan_gives_the_snippets_that_analysing_every_word_gives(monkeypatch) -> None:
    """Only words at a key, a letter beyond ASCII or an inner apostrophe are analysed: on every BBC
    article that may match each query, the snippets and highlights are those of the full analysis."""
    from indexer.readers import find_files, read_file

    files, _ = find_files([CORPORA / "bbc"])
    articles = [a for f in files for a in read_file(f, 10 * 1024 * 1024) if isinstance(a, Article)]
    extra = Article(id="x", headline="Café", body=("Don’t ask O'Neill's CAFÉ staff about ﬁnance; the café’s Economy.",))
    matchers = [TermMatcher(parse(q).root) for q in SCAN_QUERIES]
    work = [(m, [a for a in [*articles, extra] if any(m.may_match(t) for t in a.body)]) for m in matchers]
    assert sum(len(hits) for _, hits in work) > 2_000
    fast = [[make_snippets(a, m) for a in hits] for m, hits in work]
    _every_word_analysed(monkeypatch)
    assert fast == [[make_snippets(a, m) for a in hits] for m, hits in work]
    assert any(s.highlights for s in fast[SCAN_QUERIES.index("cafe")][-1])


WORDS = st.sampled_from(["Rain", "rain's", "don't", "DON’T", "café", "Cafe", "caf", "economy", "economies", "Économie",
                         "skies", "sky", "ﬁnance", "finance", "o'neill", "x_rain", "rain_", "'rain'", "rain''s", "dying"])


@given(st.lists(st.one_of(WORDS, st.text(alphabet=" .,'’_-éa\n", max_size=3)), max_size=30), WORDS, st.booleans())
def test_the_candidate_scan_finds_every_matching_word_of_any_text(parts: list[str], word: str, prefix: bool) -> None:
    from indexer.analysis import matching_words
    from query.snippets import mark

    term = analyze_word(word)
    if term is None or (prefix and len(term) < 2):
        return
    matcher = TermMatcher(Term(term[:2], prefix=True) if prefix else Term(term))
    text = " ".join(parts)
    terms, spans = matching_words(text, matcher)
    assert mark(text, matcher) == (frozenset(terms), tuple(spans))


SENTENCE_PARTS = st.sampled_from([". ", "! ", "? ", "Mr. ", "U.S. ", ".\" ", "x" * 160, "rain" * 40, "x" * 300 + "rain", "\u2009", "\n"])


@given(st.lists(st.one_of(WORDS, SENTENCE_PARTS), max_size=60), WORDS, st.integers(0, 2))
def test_a_snippet_highlights_every_matching_word_it_shows(parts: list[str], word: str, context: int) -> None:
    """A paragraph's words are found once and shared out to its sentences: each snippet of it shows the
    highlights that marking its own text gives, long sentences cut in pieces (without a space too) included."""
    from query.snippets import mark

    term = analyze_word(word)
    if term is None:
        return
    matcher = TermMatcher(Term(term))
    article = Article(id="p", headline="H", body=(" ".join(parts),))
    for snippet in make_snippets(article, matcher, count=3, context=context):
        if snippet.matched_terms:  # not the lead shown when nothing matches
            assert snippet.highlights == mark(snippet.text, matcher)[1]
