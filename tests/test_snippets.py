"""Snippets: best sentences first, context, no repeats, whole bodies covered."""
from __future__ import annotations

from indexer.models import Article
from query.snippets import make_snippets
from query.syntax import parse, term_matcher


def snippets_for(article: Article, query: str, **options: int) -> list:
    return list(make_snippets(article, term_matcher(parse(query).root), **options))


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
