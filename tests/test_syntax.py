"""Query syntax: what each construct finds, checked against the corpus itself on every embedded engine.

The expected hits are worked out here by brute force over the articles of BBC + the bundled corpus,
analysed with the project's analyzer, so no count is hard-coded: an engine must return exactly the
articles the text says it should.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Callable, Iterator

import pytest
from conftest import BBC, BUNDLED_CORPUS
from hypothesis import given
from hypothesis import strategies as st

from indexer.analysis import section_terms, terms
from indexer.config import Config
from indexer.models import SECTIONS, Article
from indexer.query_tree import And, Not, Or, Phrase, Term, within_slop
from indexer.readers import find_files, read_file
from query import Searcher
from query.searcher import MAX_LIMIT
from query.syntax import MAX_BOOST, MAX_SLOP, parse

Key = tuple[str, int | None]  # an article: its file, and its line for a record of a JSONL file
Fields = dict[str, list[str]]  # an article's analysed terms, per searchable field
Predicate = Callable[[Fields], bool]


# -- brute force over the corpus text --------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus() -> dict[Key, Fields]:
    """Every indexed article with its terms per field, read and analysed as the index build does."""
    files, problems = find_files([BUNDLED_CORPUS, BBC])
    assert not problems
    articles = [a for f in files for a in read_file(f, Config().max_article_bytes) if isinstance(a, Article)]
    assert len(articles) == 2226  # as many as bbc_index holds
    return {(a.path, a.line): {name: text.split() for name, text in section_terms(a).items()} for a in articles}


def term(word: str) -> str:
    (found,) = terms(word)
    return found


def has(word: str, field: str | None = None) -> Predicate:
    """The word in the field (in any field for None)."""
    wanted = term(word)
    return lambda doc: any(wanted in doc[f] for f in ([field] if field else SECTIONS))


def spread(choice: tuple[int, ...]) -> int:
    """How many moves words at these positions are from standing as a phrase (Lucene's definition:
    the spread of each position less the word's place in the phrase)."""
    offsets = [p - i for i, p in enumerate(choice)]
    return max(offsets) - min(offsets)


def phrase(text: str, slop: int = 0) -> Predicate:
    """The phrase in one field, at distinct positions at most `slop` moves apart (tried exhaustively)."""
    words = terms(text)

    def match(doc: Fields) -> bool:
        for field_terms in doc.values():
            places = [[i for i, t in enumerate(field_terms) if t == w] for w in words]
            if all(places) and any(len(set(c)) == len(c) and spread(c) <= slop for c in itertools.product(*places)):
                return True
        return False

    return match


def expected(corpus: dict[Key, Fields], predicate: Predicate) -> set[Key]:
    return {key for key, doc in corpus.items() if predicate(doc)}


def found(searcher: Searcher, query: str) -> list[Key]:
    """Every hit of the query, best first (no did-you-mean, no fallback to any word): the articles
    with every word, which rank before those with some of them."""
    results = searcher.search(query, limit=MAX_LIMIT, snippets=0, exact=True)
    assert not results.fallback and not results.plain_words, query
    assert results.total == len(results.hits) and results.all_words <= results.total, query
    return [(h.path, h.line) for h in results.hits[:results.all_words]]


@pytest.fixture
def searcher(bbc_index: Path) -> Iterator[Searcher]:
    with Searcher(bbc_index) as opened:
        yield opened


# -- item 1: excluding a phrase or a group excludes it -----------------------------------------------

NEGATIONS: list[tuple[str, Callable[[], Predicate]]] = [
    ('-"prime minister" blair', lambda: lambda d: has("blair")(d) and not phrase("prime minister")(d)),
    ("blair -(brown OR prescott)", lambda: lambda d: has("blair")(d) and not has("brown")(d) and not has("prescott")(d)),
    ("+(chelsea OR arsenal) -(mourinho OR wenger)",
     lambda: lambda d: (has("chelsea")(d) or has("arsenal")(d)) and not (has("mourinho")(d) or has("wenger")(d))),
]


@pytest.mark.parametrize("query,predicate", NEGATIONS, ids=[q for q, _ in NEGATIONS])
def test_excluding_a_phrase_or_group_excludes_it(corpus: dict[Key, Fields], searcher: Searcher, query: str,
                                                 predicate: Callable[[], Predicate]) -> None:
    right = expected(corpus, predicate())
    assert right  # the query has answers in the corpus, so a wrong exclusion shows
    assert set(found(searcher, query)) == right


@pytest.mark.parametrize("query,same_as", [
    ('NOT "prime minister" blair', '-"prime minister" blair'),
    ('!"prime minister" blair', '-"prime minister" blair'),
    ("blair NOT (brown OR prescott)", "blair -(brown OR prescott)"),
    ("blair !(brown OR prescott)", "blair -(brown OR prescott)"),
    ("(chelsea OR arsenal) -mourinho -wenger", "+(chelsea OR arsenal) -(mourinho OR wenger)"),
])
def test_every_way_of_excluding_agrees(searcher: Searcher, query: str, same_as: str) -> None:
    assert set(found(searcher, query)) == set(found(searcher, same_as))


def test_a_query_that_only_excludes_a_phrase_or_group_is_refused() -> None:
    from indexer.errors import QueryError

    for query in ('-"prime minister"', "-(brown OR prescott)", "!(brown OR prescott)"):
        with pytest.raises(QueryError, match="only excludes"):
            parse(query)


@pytest.mark.parametrize("query,same_as", [
    ("Histone 2A (H2A)-histone 2B", "Histone 2A (H2A) histone 2B"),  # glued to `)`: a hyphen
    ('"prime minister"-led talks', '"prime minister" led talks'),
    ("E2f-1, -2, -3 cells", "E2f-1 2 3 cells"),  # before a digit: the number's sign
    ("destabilizing +1 nucleosomes", "destabilizing 1 nucleosomes"),
])
def test_a_dash_within_text_or_a_sign_before_a_number_is_no_operator(query: str, same_as: str) -> None:
    """Pasted sentences ("E2f-1, -2, -3", "+1 nucleosomes") must not exclude or require words."""
    assert parse(query).root == parse(same_as).root
    assert parse("blair -brown").root != parse("blair brown").root  # a `-` where a word starts still excludes


# -- item 10: Lucene's syntax means what it means in Lucene -------------------------------------------

@pytest.mark.parametrize("query,same_as", [
    ("headline:(blair OR brown)", "headline:blair OR headline:brown"),
    ('title:("prime minister" OR brown)', 'headline:"prime minister" OR headline:brown'),
    ("headline:(blair -brown)", "headline:blair -headline:brown"),
    ("body:(blair headline:brown)", "body:blair headline:brown"),
    ("blair || brown", "blair OR brown"),
    ("blair && brown", "blair AND brown"),
    ("blair && !brown", "blair AND NOT brown"),
    ("!brown blair", "-brown blair"),
    ("blair^2", "blair"),
    ('"prime minister"^3 blair', '"prime minister" blair'),
    ("(blair brown)^2 prescott", "blair brown prescott"),
    ('"blair"~4', "blair"),
])
def test_lucene_syntax_finds_what_its_plain_equivalent_finds(searcher: Searcher, query: str, same_as: str) -> None:
    hits = set(found(searcher, query))
    assert hits and hits == set(found(searcher, same_as))


def test_a_field_group_finds_the_words_in_that_field_only(corpus: dict[Key, Fields], searcher: Searcher) -> None:
    right = expected(corpus, lambda d: has("blair", "headline")(d) or has("brown", "headline")(d))
    assert right and right != expected(corpus, lambda d: has("blair")(d) or has("brown")(d))
    assert set(found(searcher, "headline:(blair OR brown)")) == right


def test_a_sloppy_phrase_finds_its_words_apart(corpus: dict[Key, Fields], searcher: Searcher) -> None:
    exact = expected(corpus, phrase("blair brown"))
    sloppy = expected(corpus, phrase("blair brown", slop=2))
    one_between = expected(corpus, lambda d: any(
        t == "blair" and f[i + 2:i + 3] == ["brown"] for f in d.values() for i, t in enumerate(f)
    ))
    assert one_between - exact  # an article says "Blair <word> Brown" and never "Blair Brown"
    assert set(found(searcher, '"blair brown"')) == exact
    assert set(found(searcher, '"blair brown"~2')) == sloppy >= exact | one_between


def test_slop_counts_moves_as_lucene_does(corpus: dict[Key, Fields], searcher: Searcher) -> None:
    """Words may swap at a cost of 2, and the slop is one budget for the whole phrase."""
    swapped = expected(corpus, phrase("brown blair", slop=2))
    assert expected(corpus, phrase("blair brown")) <= swapped
    assert set(found(searcher, '"brown blair"~2')) == swapped
    assert set(found(searcher, '"brown blair"~1')) == expected(corpus, phrase("brown blair", slop=1)) != swapped
    three = expected(corpus, phrase("chancellor gordon brown", slop=3))
    assert three != expected(corpus, phrase("chancellor gordon brown"))
    assert set(found(searcher, '"chancellor gordon brown"~3')) == three


def test_a_boost_changes_the_order_not_the_hits(corpus: dict[Key, Fields], searcher: Searcher) -> None:
    more_blair = found(searcher, "blair^5 brown")
    more_brown = found(searcher, "blair brown^5")
    assert set(more_blair) == set(more_brown) == set(found(searcher, "blair brown"))
    assert more_blair != more_brown

    def mentions(word: str, keys: list[Key]) -> int:
        return sum(field_terms.count(word) for key in keys[:10] for field_terms in corpus[key].values())

    assert mentions("blair", more_blair) > mentions("blair", more_brown)
    assert mentions("brown", more_brown) > mentions("brown", more_blair)


def test_a_phrase_boost_changes_the_order_not_the_hits(searcher: Searcher) -> None:
    plain = found(searcher, '"prime minister" blair')
    boosted = found(searcher, '"prime minister"^5 blair')
    assert set(plain) == set(boosted) and plain != boosted


# -- the parse tree -------------------------------------------------------------------------------

def test_lucene_syntax_parses_into_the_tree() -> None:
    assert parse("blair^2").root == Term("blair", boost=2.0)
    assert parse("Blair^0.5").root == Term("blair", boost=0.5)
    assert parse('"prime minister"~3').root == Phrase(("prime", "minist"), slop=3)
    assert parse('"prime minister"~3^2').root == parse('"prime minister"^2~3').root == Phrase(("prime", "minist"), slop=3, boost=2.0)
    assert parse("headline:(blair OR brown)").root == Or((Term("blair", "headline"), Term("brown", "headline")))
    assert parse("blair || brown").root == Or((Term("blair"), Term("brown")))
    assert parse("blair && brown").root == And((Term("blair"), Term("brown")), implicit=False)
    assert parse("!brown blair").root == And((Not(Term("brown")), Term("blair")))
    assert parse("headline:blair^3").root == Term("blair", "headline", boost=3.0)
    assert parse("blari~2^3").root == Term("blari", fuzzy=2, boost=3.0)
    assert parse("(blair brown)^2").root == And((Term("blair", boost=2.0), Term("brown", boost=2.0)))
    assert parse("(blair^2 brown)^3").root == And((Term("blair", boost=6.0), Term("brown", boost=3.0)))


def test_boost_and_slop_are_capped() -> None:
    assert parse("blair^100000").root == Term("blair", boost=MAX_BOOST)
    assert parse("(blair^50)^50").root == Term("blair", boost=MAX_BOOST)
    assert parse('"prime minister"~99999999999').root == Phrase(("prime", "minist"), slop=MAX_SLOP)


def test_leaves_keep_what_was_typed_and_whether_it_was_quoted() -> None:
    root = parse('Blair^2 "Prime Minister"~2 title:"Downing Street" IS-KP mobile* "Brown"').root
    assert isinstance(root, And)
    shown = [(leaf.typed, leaf.quoted) for leaf in root.items]  # type: ignore[union-attr]
    assert shown == [("Blair", False), ("Prime Minister", True), ("Downing Street", True), ("IS-KP", False),
                     ("mobile*", False), ("Brown", True)]


@pytest.mark.parametrize("query", ["blair^x", "blair^0", "blair^-2", "(blair brown)~2", "gib*~2", "blair^2^3",
                                   '"prime minister"~2~3', 'brown "prime minister"^'])
def test_malformed_lucene_syntax_is_read_as_plain_words(query: str) -> None:
    parsed = parse(query)
    assert parsed.plain_words
    assert all(isinstance(leaf, Term) and leaf.boost == 1.0 for leaf in (parsed.root.items if isinstance(parsed.root, And) else (parsed.root,)))


def test_a_lone_dash_or_bang_is_punctuation() -> None:
    assert parse("blair - brown").root == parse("blair ! brown").root == And((Term("blair"), Term("brown")))


@given(st.lists(st.lists(st.integers(0, 12), min_size=1, max_size=4), min_size=1, max_size=4), st.integers(0, 6))
def test_within_slop_is_lucenes_sloppy_phrase(positions: list[list[int]], slop: int) -> None:
    """The shared check (used by the whoosh engine) against the definition, tried exhaustively."""
    by_definition = any(spread(c) <= slop for c in itertools.product(*positions))
    assert within_slop(positions, slop) == by_definition


def _levenshtein(a: str, b: str) -> int:
    """The textbook dynamic programme, every cell computed."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@given(st.text(alphabet="abcé", max_size=9), st.text(alphabet="abcé", max_size=9), st.integers(0, 3))
def test_edit_distance_is_levenshtein_up_to_the_limit(a: str, b: str, limit: int) -> None:
    """Fuzzy words and did-you-mean count edits this way (shared starts and ends are skipped, and the
    count stops past the limit): the distance itself when within the limit, a larger number otherwise."""
    from indexer.query_tree import edit_distance

    expected = _levenshtein(a, b)
    found = edit_distance(a, b, limit)
    assert found == expected if expected <= limit else found > limit
