"""Nightly update on the OpenSearch engine: applied in place, and pruning never drops the shared index."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("opensearchpy", reason="opensearch-py is not installed: pip install -e '.[opensearch]'")

from cluster import BBC  # noqa: E402
from opensearch_fixtures import cluster, os_config  # noqa: E402,F401,F811 (session fixtures)

from indexer import build_index, rollback_index, update_index  # noqa: E402
from indexer.config import Config  # noqa: E402
from indexer.generations import IndexStore  # noqa: E402
from query.searcher import Searcher  # noqa: E402


def test_update_in_place_keeps_the_serving_index_through_pruning(os_config: Config, tmp_path: Path) -> None:
    from opensearchpy import OpenSearch

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for source in sorted((BBC / "tech").glob("*.txt"))[:20]:
        (corpus / source.name).write_bytes(source.read_bytes())
    config = replace(os_config, index_dir=tmp_path / "index", opensearch_alias="nightly-update")
    build_index([corpus], config=config)
    first = IndexStore(config.index_dir).current()

    (corpus / "001.txt").unlink()
    (corpus / "900.txt").write_text("Zqcluster story\n\nA new article for the cluster.\n")
    report = update_index([corpus], config=config, keep=1)  # keep 1: the first folder is pruned
    assert (report.added, report.removed, report.indexed) == (1, 1, 20)
    assert any("in place" in note for note in report.notes)

    second = IndexStore(config.index_dir).current()
    assert second.name != first.name and not first.path.exists()
    assert second.meta.service["opensearch_index"] == first.meta.service["opensearch_index"]
    client = OpenSearch(hosts=config.opensearch_url.split(","))  # type: ignore[union-attr]
    assert client.indices.exists(index=first.meta.service["opensearch_index"])
    assert set(client.indices.get_alias(name="nightly-update")) == {first.meta.service["opensearch_index"]}
    with Searcher(config.index_dir, config) as searcher:
        assert searcher.search("zqcluster").total == 1

    (corpus / "900.txt").unlink()
    build_index([corpus], config=config, mode="rebuild")  # a full rebuild: a new index, the alias moves
    third = IndexStore(config.index_dir).current()
    assert set(client.indices.get_alias(name="nightly-update")) == {third.meta.service["opensearch_index"]}
    rollback_index(config.index_dir, config=config)  # the alias moves back with CURRENT
    assert set(client.indices.get_alias(name="nightly-update")) == {first.meta.service["opensearch_index"]}
    with Searcher(config.index_dir, config) as searcher:
        assert searcher.search("zqcluster").total == 1


def test_jsonl_records_appended_edited_and_removed_in_place(os_config: Config, tmp_path: Path) -> None:
    """In place, a changed feed file is re-indexed whole (an update that failed half way may have left
    articles no manifest lists); the report still counts the records that changed."""
    import json

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = [{"id": f"wire-{n}", "headline": f"Wire story {n}", "body": f"Harbour report number {n}."} for n in range(8)]
    feed = corpus / "wire.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in records[:6]), encoding="utf-8")
    config = replace(os_config, index_dir=tmp_path / "index", opensearch_alias="nightly-records")
    build_index([corpus], config=config)
    records[1]["body"] += " Zqamended after a complaint."
    feed.write_text("".join(json.dumps(r) + "\n" for r in records[:5] + records[6:]), encoding="utf-8")  # wire-5 gone
    report = update_index([corpus], config=config)
    assert (report.added, report.updated, report.removed, report.unchanged, report.indexed) == (2, 1, 1, 4, 7)
    with Searcher(config.index_dir, config) as searcher:
        assert [h.id for h in searcher.search("zqamended").hits] == ["wire-1"]
        assert "wire-5" not in {h.id for h in searcher.search("harbour report", limit=20).hits}
        assert searcher.search("harbour report", limit=20).total == 7
