"""Facets on every embedded engine (OpenSearch: tests/opensearch/test_opensearch_facets.py): the
articles matching a query counted per category, source and year, checked against every hit's own
fields; the same counts on each engine; a tantivy index built before its keyword columns counts
them too."""
from __future__ import annotations

from pathlib import Path

import pytest
from web_support import brute_force_facets, build, small_corpus, small_index

from indexer.engines import FACETS
from query.searcher import FACET_VALUES, Searcher

ENGINES = ("whoosh", "tantivy")
QUERIES = [("coronavirus", {}), ("police OR court", {}), ("said", {"category": "news"}), ("ferry", {}),
           ("mobile phone", {"since": "2020-09-30"}), ('"prime minister"', {}), ("nothingmatchesthis", {})]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return small_corpus(tmp_path_factory.mktemp("facets-corpus"))


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("tantivy")
    return {engine: small_index(tmp_path_factory, engine) for engine in ENGINES}


def expected(searcher: Searcher, query: str, filters: dict[str, str]) -> dict[str, dict[str, int]]:
    counts = brute_force_facets(searcher, query, **filters)
    return {name: dict(sorted(counts[name].items(), key=lambda item: (-item[1], item[0]))[:FACET_VALUES]) for name in FACETS}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("query, filters", QUERIES)
def test_facets_count_every_match(indexes: dict[str, Path], engine: str, query: str, filters: dict[str, str]) -> None:
    with Searcher(indexes[engine]) as searcher:
        results = searcher.search(query, limit=1, facets=FACETS, **filters)
        assert results.facets == expected(searcher, query, filters)
        if query == "coronavirus":
            assert results.facets["category"]["news"] > 0 and results.facets["year"] == {"2020": results.total}


def test_every_engine_counts_the_same(indexes: dict[str, Path]) -> None:
    answers = []
    for engine in ENGINES:
        with Searcher(indexes[engine]) as searcher:
            answers.append([searcher.search(q, limit=1, facets=FACETS, **f).facets for q, f in QUERIES])
    assert answers[0] == answers[1]


def test_a_tantivy_index_without_keyword_columns_counts_them_too(corpus: list[Path], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    tantivy = pytest.importorskip("tantivy")
    from indexer.engines import tantivy as engine

    def schema_before_columns() -> object:  # the schema of indexes built before facets
        builder = tantivy.SchemaBuilder()
        for name in engine.SEARCH_FIELDS:
            builder.add_text_field(name, tokenizer_name="whitespace", index_option="position")
        for name in ("id", "path", "source", "categories"):
            builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
        builder.add_integer_field("date", indexed=True, fast=True)
        builder.add_bytes_field("article", stored=True)
        return builder.build()

    monkeypatch.setattr(engine, "schema", schema_before_columns)
    old = build(corpus, tmp_path / "old", "tantivy")
    monkeypatch.undo()
    with Searcher(old) as searcher:
        for query, filters in QUERIES:
            assert searcher.search(query, limit=1, facets=FACETS, **filters).facets == expected(searcher, query, filters)
