"""A real two-node OpenSearch cluster for the engine tests, started once per session.

(Not a conftest.py: test modules import names from the top-level conftest, which a second
conftest module would shadow. Test modules import these fixtures.)

The distribution is fetched by .ci/opensearch.sh into .cache/opensearch/; without it (or without
Java or opensearch-py) these tests skip and say why.
"""
from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
from cluster import BBC, BUNDLED_CORPUS, Cluster, find_distribution, java_home


def _missing() -> str | None:
    if importlib.util.find_spec("opensearchpy") is None:
        return "opensearch-py is not installed: pip install -e '.[opensearch]'"
    if find_distribution() is None:
        return "OpenSearch distribution not found under .cache/opensearch/: fetch it with: bash .ci/opensearch.sh"
    if java_home() is None:
        return "no Java found (OpenSearch needs Java 17+)"
    return None


_running: list[Cluster] = []  # the one cluster of the session, whichever test module asked first


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """Two nodes on loopback, one cluster; stopped (and their folders removed) at the end.

    Modules that import this fixture each get their own session fixture from pytest; they share
    one cluster (started by the first), so the whole suite starts two nodes, not two per module.
    """
    reason = _missing()
    if reason:
        pytest.skip(reason)
    if _running:
        yield _running[0]
        return
    distribution = find_distribution()
    assert distribution is not None
    # Not under pytest's tmp folder: that one is private to root, and the nodes may run as nobody.
    root = Path(tempfile.mkdtemp(prefix="article-search-opensearch-"))
    nodes = Cluster(distribution, root)
    try:
        nodes.start()
        _running.append(nodes)
        yield nodes
    finally:
        _running.clear()
        nodes.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def os_config(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory):
    """A Config for the cluster: 2 shards with 1 replica each, so either node holds a full copy."""
    from indexer.config import Config

    index_dir = tmp_path_factory.mktemp("os-index")
    return Config(index_dir=index_dir, engine="opensearch", opensearch_url=cluster.url,
                  opensearch_shards=2, opensearch_replicas=1)


@pytest.fixture(scope="session")
def os_index(os_config) -> Path:
    """BBC + the bundled corpus (as the whoosh `bbc_index`), indexed into the cluster once."""
    from indexer import build_index

    report = build_index([BUNDLED_CORPUS, BBC], config=os_config)
    assert report.indexed == 2226 and not report.skipped
    return os_config.index_dir
