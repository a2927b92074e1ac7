"""Facets on the OpenSearch engine (terms aggregations on a real two-node cluster, 2 shards): the
same counts as the whoosh engine over the same folders, and as every hit's own fields."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("opensearchpy", reason="opensearch-py is not installed: pip install -e '.[opensearch]'")

from opensearch_fixtures import cluster, os_config  # noqa: E402,F401 (session fixtures)
from web_support import brute_force_facets, build, small_corpus  # noqa: E402

from indexer import build_index  # noqa: E402
from indexer.engines import FACETS  # noqa: E402
from query.searcher import FACET_VALUES, Searcher  # noqa: E402

QUERIES = [("coronavirus", {}), ("police OR court", {}), ("said", {"category": "news"}),
           ("mobile phone", {"since": "2020-09-30"}), ("nothingmatchesthis", {})]


def test_opensearch_counts_as_whoosh_and_as_the_hits(os_config, tmp_path: Path) -> None:  # noqa: F811
    corpus = small_corpus(tmp_path / "corpus")
    whoosh = build(corpus, tmp_path / "whoosh")
    config = replace(os_config, index_dir=tmp_path / "opensearch")
    report = build_index(corpus, config=config)
    assert not report.skipped
    with Searcher(whoosh) as embedded, Searcher(config=config) as clustered:
        for query, filters in QUERIES:
            got = clustered.search(query, limit=1, facets=FACETS, **filters).facets
            assert got == embedded.search(query, limit=1, facets=FACETS, **filters).facets
            counts = brute_force_facets(clustered, query, **filters)
            assert got == {name: dict(sorted(counts[name].items(), key=lambda i: (-i[1], i[0]))[:FACET_VALUES])
                           for name in FACETS}
        assert clustered.search("coronavirus", facets=("year",)).facets["year"]["2020"] > 0
