"""One conformance suite for every engine: whoosh and tantivy always, OpenSearch when its two-node test
cluster can start (tests/opensearch/opensearch_fixtures.py; CI fetches the distribution).

Each engine indexes the same real articles (BBC, 2,226 with the bundled one, so `co*` stands for more
index terms than the 200 cap; 800 Daily Mail records with dates and categories; a few records whose
categories and sources hold commas, case and spaces). Every answer is compared with an oracle worked
out by brute force over the corpus with the project's analyzer: hit sets, document frequencies, the
term list, prefix and fuzzy expansions and their cap, did-you-mean candidates, filters and keywords,
date order, stored articles field by field, explain parts and status counts. An engine that agrees
with the oracle agrees with every other engine.
"""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Mapping

import pytest
from conftest import BBC, BUNDLED_CORPUS, DAILYMAIL

sys.path.insert(0, str(Path(__file__).resolve().parent / "opensearch"))
from opensearch_fixtures import cluster  # noqa: E402,F401 (session fixture: skips without a distribution)

from indexer import build_index  # noqa: E402
from indexer.analysis import article_terms, terms  # noqa: E402
from indexer.config import Config  # noqa: E402
from indexer.engines import EngineIndex, Filters, bm25f, get_engine  # noqa: E402
from indexer.expansion import MAX_EXPANSIONS, expand, expansions  # noqa: E402
from indexer.generations import IndexStore  # noqa: E402
from indexer.models import SECTIONS, Article, Skipped  # noqa: E402
from indexer.query_tree import And, Node, Not, Or, Phrase, Term, positive_leaves  # noqa: E402
from indexer.readers import find_files, read_file  # noqa: E402
from indexer.status import index_status  # noqa: E402
from query import proximity  # noqa: E402
from query.ranking import all_words_first  # noqa: E402
from query.syntax import ParsedQuery, parse  # noqa: E402

DAILYMAIL_RECORDS = 800
FEED = [  # categories and sources as people type them: commas, case, runs of spaces (read as the readers read them)
    {"id": "kw-1", "headline": "Zorblat floods close the harbour", "bullets": ["Water rose overnight", "Roads shut"],
     "body": "Zorblat water rose in the harbour.\n\nA lifeboat crew waited.\n\nA lifeboat crew waited.\n\nThe tide turned.",
     "date": "2020-08-03T10:15:00", "source": "Daily Mail", "url": "https://example.org/kw-1",
     "categories": ["News, UK", "Weather   Desk"], "authors": ["Jane Smith", "Quillon Barrowby"]},
    {"id": "kw-2", "headline": "Zorblat markets steady", "body": "Zorblat shares rose.", "date": "2020-08-04",
     "source": "Reuters, London", "categories": ["news", "UK"], "author": "By JANE  SMITH"},
    {"id": "kw-3", "headline": "Zorblat harbour reopens", "body": "Boats are back in the zorblat harbour.",
     "source": "  daily   MAIL ", "categories": ["NEWS,  uk"], "byline": "Ann Lee and Quillon Barrowby"},
]
QUERIES = (
    "blair", "prime minister", '"prime minister"', '-"prime minister" blair', "blair -(brown OR prescott)",
    "+(chelsea OR arsenal) -(mourinho OR wenger)", "blair NOT brown", "gibraltar OR yukos",
    "(iraq OR iran) AND NOT nuclear", "headline:election", 'headline:"prime minister"', "bank -headline:bank",
    "co*", "co* -could", "econom* growth", "headline:co*", "blari~", "blair~", "blair~2", "chancelor~ budget",
    "coronavirus lockdown", '"boris johnson" -coronavirus', "zorblat",
    "smith", "quillon barrowby", '"jane smith"', "authors:smith", "authors:quill*", "harbour -authors:barrowby",
)
DF_SAMPLE = ("blair", "said", "could", "jalalabad", "coronavirus", "zorblat", "lifeboat", "zzqxvnonexistent")
EXPANDING = ("co*", "econom*", "headline:co*", "blari~", "blair~", "blair~2", "chancelor~", "coronaviru~2")
MISSPELLED = ("agulera", "chancelor", "blari", "coronavirs")


def levenshtein(a: str, b: str) -> int:
    """Plain Levenshtein distance (a transposition is two edits), written here to check the engines'."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row, previous = [i], row
        for j, cb in enumerate(b, 1):
            row.append(min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb)))
    return row[-1]


def keyword(value: str) -> str:
    return " ".join(value.split()).lower()


@dataclass
class Oracle:
    """The corpus as the engines should see it: articles by id and, per field, term -> positions per id."""

    articles: dict[str, Article]
    positions: dict[str, dict[str, dict[str, list[int]]]]  # field -> term -> id -> positions
    lengths: dict[str, dict[str, int]]  # field -> id -> its length in terms, where not 0

    @classmethod
    def read(cls, roots: list[Path]) -> "Oracle":
        articles: dict[str, Article] = {}
        files, problems = find_files(roots)
        assert not problems
        for file in files:
            for item in read_file(file, Config().max_article_bytes):
                assert not isinstance(item, Skipped), item
                if isinstance(item, Article):  # not a notice (fields a reader did not use)
                    articles.setdefault(item.id, item)  # the first of two equal ids is kept, as the build does
        positions: dict[str, dict[str, dict[str, list[int]]]] = {f: {} for f in SECTIONS}
        lengths: dict[str, dict[str, int]] = {f: {} for f in SECTIONS}
        for article in articles.values():
            for field, text in article_terms(article).items():
                for place, term in enumerate(text.split()):
                    positions[field].setdefault(term, {}).setdefault(article.id, []).append(place)
                if text:
                    lengths[field][article.id] = len(text.split())
        return cls(articles, positions, lengths)

    def holding(self, term: str, field: str | None = None) -> set[str]:
        return {i for f in ((field,) if field else SECTIONS) for i in self.positions[f].get(term, {})}

    def vocabulary(self, field: str | None = None) -> set[str]:
        return {t for f in ((field,) if field else SECTIONS) for t in self.positions[f]}

    def expansions(self, leaf: Term) -> tuple[tuple[str, ...], int]:
        """The terms a prefix or fuzzy word must expand to (the cap keeps the ones in most articles,
        ties alphabetical), and how many there were before the cap."""
        near = [t for t in self.vocabulary(leaf.field)
                if (t.startswith(leaf.term) if leaf.prefix else
                    t[:1] == leaf.term[:1] and levenshtein(t, leaf.term) <= leaf.fuzzy)]
        best = sorted(near, key=lambda t: (-len(self.holding(t, leaf.field)), t))[:MAX_EXPANSIONS]
        return tuple(sorted(best)), len(near)

    def similar_terms(self, term: str, edits: int) -> list[tuple[str, int]]:
        for field in ("body", "headline", "bullets", "captions", "authors"):
            found = sorted(t for t in self.positions[field] if t[:1] == term[:1] and t != term
                           and levenshtein(t, term) <= edits)
            if found:
                return [(t, len(self.holding(t))) for t in found]
        return []

    def matches(self, node: Node) -> set[str]:
        if isinstance(node, And):
            found = set(self.articles)
            for item in node.items:
                if isinstance(item, Not):
                    found -= self.matches(item.item)
                else:
                    found &= self.matches(item)
            return found
        if isinstance(node, Or):
            return set().union(*(self.matches(i) for i in node.items))
        if isinstance(node, Not):
            return set(self.articles) - self.matches(node.item)
        if isinstance(node, Phrase):
            assert node.slop == 0
            return {i for f in ((node.field,) if node.field else SECTIONS) for i in self.phrase_in(node.terms, f)}
        words = self.expansions(node)[0] if node.expanding else (node.term,)
        return set().union(*(self.holding(t, node.field) for t in words))

    def bm25f(self, parsed: ParsedQuery, article_id: str, weights: Mapping[str, float]) -> float:
        """BM25F (indexer.engines.bm25f's formula) of one article for a query of plain words, by brute force."""
        total = 0.0
        for word in {leaf.term for leaf in positive_leaves(parsed.root)}:
            combined = 0.0
            for field in SECTIONS:
                lengths = self.lengths[field]
                norm = 1 - bm25f.B + bm25f.B * lengths.get(article_id, 0) / (sum(lengths.values()) / len(lengths))
                combined += weights[field] * len(self.positions[field].get(word, {}).get(article_id, ())) / norm
            idf = math.log(1 + (len(self.articles) - len(self.holding(word)) + 0.5) / (len(self.holding(word)) + 0.5))
            total += idf * combined * (bm25f.K1 + 1) / (bm25f.K1 + combined)
        return total

    def phrase_in(self, words: tuple[str, ...], field: str) -> set[str]:
        by_word = [self.positions[field].get(w, {}) for w in words]
        common = set(by_word[0]).intersection(*by_word[1:])
        return {i for i in common if any(all(p + k in by_word[k][i] for k in range(len(words))) for p in by_word[0][i])}


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """BBC and the bundled article, plus a folder of real Daily Mail records and the keyword records."""
    extra = tmp_path_factory.mktemp("conformance-corpus")
    with open(DAILYMAIL / "part-000.jsonl", encoding="utf-8") as source:
        (extra / "dailymail.jsonl").write_text("".join(next(source) for _ in range(DAILYMAIL_RECORDS)), encoding="utf-8")
    (extra / "feed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in FEED), encoding="utf-8")
    return [BUNDLED_CORPUS, BBC, extra]


@pytest.fixture(scope="module")
def oracle(roots: list[Path]) -> Oracle:
    return Oracle.read(roots)


@pytest.fixture(scope="module", params=["whoosh", "tantivy", "opensearch"])
def config(request: pytest.FixtureRequest, roots: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The corpus indexed by one engine (OpenSearch: into the test cluster, 2 shards with a replica each)."""
    name = request.param
    index_dir = tmp_path_factory.mktemp(f"conformance-{name}")
    config = Config(index_dir=index_dir, engine=name)
    if name == "opensearch":
        nodes = request.getfixturevalue("cluster")
        config = replace(config, opensearch_url=nodes.url, opensearch_alias="conformance", opensearch_shards=2,
                         opensearch_replicas=1)
    elif name != "whoosh":
        pytest.importorskip(name)
    build_index(roots, config=config)
    return config


@pytest.fixture(scope="module")
def index(config: Config) -> Iterator[EngineIndex]:
    generation = IndexStore(config.index_dir).current()
    opened = get_engine(generation.engine, config).open(generation.path)
    yield opened
    opened.close()


def hits(index: EngineIndex, query: str, filters: Filters | None = None) -> tuple[set[str], int]:
    page = index.search(parse(query).root, Config().weights, 10_000, filters)
    return {h.article.id for h in page.hits}, page.total


def test_doc_and_status_counts(index: EngineIndex, config: Config, oracle: Oracle) -> None:
    assert index.doc_count() == len(oracle.articles) == 2226 + DAILYMAIL_RECORDS + len(FEED)
    status = index_status(config.index_dir)
    assert status.current is not None and status.current.articles == len(oracle.articles)
    folder = IndexStore(config.index_dir).current().path
    assert status.current.size_bytes == sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


@pytest.mark.parametrize("query", QUERIES)
def test_same_hits_as_the_oracle(index: EngineIndex, oracle: Oracle, query: str) -> None:
    expected = oracle.matches(parse(query).root)
    found, total = hits(index, query)
    assert (total, len(found)) == (len(expected), len(expected)), query
    assert found == expected, (query, sorted(found ^ expected)[:10])


def test_document_frequencies_are_exact(index: EngineIndex, oracle: Oracle) -> None:
    for term in DF_SAMPLE:
        assert index.doc_frequency(term) == len(oracle.holding(term)), term
        assert index.doc_frequency(term, "headline") == len(oracle.holding(term, "headline")), term
    assert index.doc_frequencies(["blair", "said"], "body") == {t: len(oracle.holding(t, "body")) for t in ("blair", "said")}


def test_term_lists_match(index: EngineIndex, oracle: Oracle) -> None:
    for field, prefix in (("body", "co"), ("headline", "bla"), ("captions", "l"), ("bullets", "zz")):
        listed = dict(index.terms_with_prefix(field, prefix))
        expected = {t: len(ids) for t, ids in oracle.positions[field].items() if t.startswith(prefix)}
        assert listed == expected, (field, prefix)


@pytest.mark.parametrize("word", EXPANDING)
def test_prefix_and_fuzzy_expansions_and_their_cap(index: EngineIndex, oracle: Oracle, word: str) -> None:
    leaf = parse(word).root
    assert isinstance(leaf, Term) and leaf.expanding
    expected, before_cap = oracle.expansions(leaf)
    assert expansions(leaf, index) == expected, word
    expanded = expand(leaf, index)
    assert isinstance(expanded, Term) and expanded.expanded == expected
    if word == "co*":
        assert before_cap > MAX_EXPANSIONS and len(expected) == MAX_EXPANSIONS and "could" in expected


@pytest.mark.parametrize("word", MISSPELLED)
def test_did_you_mean_candidates(index: EngineIndex, oracle: Oracle, word: str) -> None:
    term = terms(word)[0]
    for edits in (1, 2):
        assert index.similar_terms(term, edits) == oracle.similar_terms(term, edits), (word, edits)


def test_filters_and_keywords(index: EngineIndex, oracle: Oracle) -> None:
    def allowed(test: object) -> set[str]:
        return {i for i, a in oracle.articles.items() if test(a)}  # type: ignore[operator]

    def has_category(name: str) -> set[str]:
        return allowed(lambda a: keyword(name) in {keyword(c) for c in a.categories})

    def has_source(name: str) -> set[str]:
        return allowed(lambda a: a.source is not None and keyword(a.source) == keyword(name))

    everything = '"zorblat" OR coronavirus OR blair'
    base = oracle.matches(parse(everything).root)
    for name in ("News, UK", "news,  uk", "news", "UK", "latest", "Weather Desk", "weather"):
        assert hits(index, everything, Filters(category=name))[0] == base & has_category(name), name
    for name in ("Daily Mail", "reuters, london", "reuters"):
        assert hits(index, everything, Filters(source=name))[0] == base & has_source(name), name
    for name in ("Jane Smith", "  jane   SMITH ", "quillon barrowby", "ann lee", "smith", "Jane Smith and Quillon Barrowby"):
        wanted = allowed(lambda a: keyword(name) in {keyword(n) for n in a.authors})  # a whole name, case aside
        assert hits(index, everything, Filters(author=name))[0] == base & wanted, name
    assert hits(index, everything, Filters(author="jane smith"))[0] == {"kw-1", "kw-2"}
    dated = allowed(lambda a: a.date is not None and "2020-03-01" <= a.date[:10] <= "2020-03-31")
    assert hits(index, everything, Filters(since="2020-03-01", until="2020-03-31"))[0] == base & dated
    some = sorted(base)[:5]
    assert hits(index, everything, Filters(exclude_ids=tuple(some)))[0] == base - set(some)


def test_a_keyword_is_matched_whole(config: Config, tmp_path: Path) -> None:
    """Articles handed to the engine itself (the API; readers may split a "News, UK" they read): a
    category or source is one keyword as given, case and spacing aside, commas kept, on every engine."""
    engine = get_engine(config.engine, config)
    generation = tmp_path / "keywords"
    generation.mkdir()
    writer = engine.create(generation)
    for number, (categories, source, authors) in enumerate([(("News, UK", "Weather   Desk"), "Daily Mail", ("Jane Smith",)),
                                                            (("news", "UK"), "Reuters, London", ("JANE  SMITH", "Bob Jones")),
                                                            (("NEWS,  uk",), "  daily   MAIL ", ())]):
        writer.add(Article(id=f"k{number}", headline="Zorblat harbour", categories=categories, source=source, path="p",
                           authors=authors))
    writer.commit()
    index = engine.open(generation)
    try:
        def found(**filters: str) -> set[str]:
            return hits(index, "zorblat", Filters(**filters))[0]

        assert found(category="news, uk") == found(category=" NEWS,   UK ") == {"k0", "k2"}
        assert found(category="news") == found(category="uk") == {"k1"}
        assert found(category="weather desk") == {"k0"} and found(category="weather") == set()
        assert found(source="daily mail") == {"k0", "k2"} and found(source="reuters, london") == {"k1"}
        assert found(source="reuters") == set()
        assert found(author=" jane smith") == {"k0", "k1"} and found(author="bob jones") == {"k1"}
        assert found(author="bob") == found(author="smith") == set()
        assert index.article("k0") is not None and index.article("k0").categories == ("News, UK", "Weather   Desk")
        assert index.article("k1").authors == ("JANE  SMITH", "Bob Jones") and index.article("k2").authors == ()
    finally:
        index.close()
        engine.discard(generation)


def test_newest_first(index: EngineIndex, oracle: Oracle) -> None:
    page = index.search(parse("coronavirus OR blair").root, Config().weights, 300, sort_by_date=True)
    found = [h.article.date for h in page.hits]
    matching = oracle.matches(parse("coronavirus OR blair").root)
    dates = sorted((oracle.articles[i].date or "" for i in matching), reverse=True)[:300]
    assert [d or "" for d in found] == dates


def test_stored_articles_come_back_whole(index: EngineIndex, oracle: Oracle) -> None:
    sample = ["kw-1", "kw-2", "kw-3", *sorted(oracle.articles)[::97]]
    for article_id in sample:
        assert index.article(article_id) == oracle.articles[article_id], article_id
    assert index.article("no-such-id") is None
    page = index.search(parse("zorblat").root, Config().weights, 10)
    assert {h.article for h in page.hits} == {oracle.articles[i] for i in ("kw-1", "kw-2", "kw-3")}


@pytest.mark.parametrize("query", ["Bellamy fined Souness", 'Straw "prime minister"', "co* economy", "chancelor~ budget"])
def test_explain_parts_add_up_to_the_score(index: EngineIndex, query: str) -> None:
    page = index.search(parse(query).root, Config().weights, 10, explain=True)
    assert page.hits, query
    for hit in page.hits:
        assert hit.score > 0 and sum(c.score for c in hit.explanation) == pytest.approx(hit.score, rel=1e-4), query
    labels = {c.term for h in page.hits for c in h.explanation}
    if query.startswith("co*"):
        assert "co*" in labels
    if query.startswith("chancelor~"):
        assert "chancelor~" in labels


@pytest.mark.parametrize("query", ["Bellamy fined Souness", "prime minister", "coronavirus lockdown", "quillon barrowby harbour"])
def test_the_best_hits_score_exact_bm25f(index: EngineIndex, oracle: Oracle, query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scores the ranking gives the best hits (rescored where the engine scores SECTIONS) are BM25F
    worked out from the corpus: exactly on tantivy and OpenSearch, within whoosh's one-byte field lengths."""
    monkeypatch.setattr(proximity, "SENTENCE_WEIGHT", 0.0)  # BM25F alone
    weights, parsed = Config().weights, parse(query)
    ranked = all_words_first(index, parsed, weights, 10)
    assert ranked.page.hits, query
    exact = index.field_averages() is not None
    assert exact == (type(index).__name__ != "WhooshIndex")
    for hit in ranked.page.hits:
        assert hit.score == pytest.approx(oracle.bm25f(parsed, hit.article.id, weights), rel=1e-6 if exact else 2e-2), query
