"""Snippets people can read: sentences split where a reader would, and a bounded snippet whatever the article."""
from __future__ import annotations

import pytest
from test_snippets import snippets_for

from indexer.models import Article
from query.snippets import MAX_SENTENCE_CHARS, split_sentences


@pytest.mark.parametrize("paragraph,expected", [
    ('He said: "It is over." Then he left.', ['He said: "It is over."', "Then he left."]),
    ("She asked (quietly.) Nobody answered.", ["She asked (quietly.)", "Nobody answered."]),
    ("Mr. Smith met Dr. Jones at No. 10 Downing Street. They talked.",
     ["Mr. Smith met Dr. Jones at No. 10 Downing Street.", "They talked."]),
    ("Troops left the U.S. Army base. Then rain fell.", ["Troops left the U.S. Army base.", "Then rain fell."]),
    ("J. K. Rowling spoke. Fans cheered!", ["J. K. Rowling spoke.", "Fans cheered!"]),
    ("Prices rose 3.5 per cent. Shares fell.", ["Prices rose 3.5 per cent.", "Shares fell."]),
])
def test_sentences_end_where_a_reader_sees_them_end(paragraph: str, expected: list[str]) -> None:
    assert split_sentences(paragraph) == expected


def test_a_paragraph_without_full_stops_comes_in_pieces() -> None:
    pieces = split_sentences("word " * 10_000)
    assert len(pieces) > 30 and max(map(len, pieces)) <= MAX_SENTENCE_CHARS
    assert " ".join(pieces).split() == ["word"] * 10_000, "no word is lost or cut"


def test_a_snippet_of_a_huge_paragraph_is_a_few_hundred_characters() -> None:
    article = Article(id="huge", headline="Huge", body=("filler words " * 50_000 + "zeppelin " + "more words " * 600_000,))
    snippets = snippets_for(article, "zeppelin")
    assert len(snippets) == 1 and "zeppelin" in snippets[0].text
    assert len(snippets[0].text) <= 3 * MAX_SENTENCE_CHARS + 2
    words = snippets_for(article, "words")
    assert len(words) == 3 and all(len(s.text) <= 3 * MAX_SENTENCE_CHARS + 2 for s in words)


def test_a_million_bullets_give_short_snippets() -> None:
    article = Article(id="bullets", headline="Bullets", bullets=tuple(f"bullet line {i} zebra" for i in range(1_000_000)))
    snippets = snippets_for(article, "zebra")
    assert len(snippets) == 3 and sum(len(s.text) for s in snippets) < 200
