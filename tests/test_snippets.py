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
