"""The OpenSearch engine on a real two-node cluster: same answers and output as the embedded engine,
a nightly rebuild that swaps the alias under running searches, and a node lost and regained."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import asdict, replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
pytest.importorskip("opensearchpy", reason="opensearch-py is not installed: pip install -e '.[opensearch]'")

from cluster import BBC, BUNDLED_CORPUS, DAILYMAIL_PARTS, KNOWN_ITEMS, Cluster, free_ports
from conftest import FOUNDING_ID, bbc_id, read_known_items
from opensearch_fixtures import cluster, os_config, os_index  # noqa: F401 (session fixtures)

from indexer.cli import main as index_main
from indexer.config import Config
from indexer.engines import Filters, get_engine
from indexer.generations import GenerationMeta, IndexStore
from query import proximity
from query.cli import main as search_main
from query.searcher import Searcher

HERE = Path(__file__).resolve().parent


def known_items() -> list[tuple[str, set[str]]]:
    """The known items with the ids of `bbc_index` and `os_index` (both built from the bundled corpus and BBC)."""
    return read_known_items(KNOWN_ITEMS, id_of=bbc_id)


def rank_of(ids: list[str], targets: set[str]) -> int | None:
    return next((i for i, doc in enumerate(ids, 1) if doc in targets), None)


def test_known_items_agree_with_the_whoosh_engine(os_index: Path, bbc_index: Path) -> None:
    items = known_items()
    same_outcome = same_rank = same_top = 0
    os_rr, whoosh_rr = [], []
    with Searcher(os_index, Config(index_dir=os_index)) as opensearch, Searcher(bbc_index, Config(index_dir=bbc_index)) as whoosh:
        for query, targets in items:
            os_ids = [h.id for h in opensearch.search(query, limit=10).hits]
            wh_ids = [h.id for h in whoosh.search(query, limit=10).hits]
            os_rank, wh_rank = rank_of(os_ids, targets), rank_of(wh_ids, targets)
            same_outcome += (os_rank is None) == (wh_rank is None)
            same_rank += os_rank == wh_rank
            same_top += bool(os_ids and wh_ids and os_ids[0] == wh_ids[0])
            os_rr.append(1 / os_rank if os_rank else 0.0)
            whoosh_rr.append(1 / wh_rank if wh_rank else 0.0)
    n = len(items)
    print(f"\nknown items ({n} queries): target found in top 10 by both or neither {same_outcome / n:.0%}, "
          f"at the same rank {same_rank / n:.0%}, same first hit {same_top / n:.0%}; "
          f"MRR@10 opensearch {sum(os_rr) / n:.3f} vs whoosh {sum(whoosh_rr) / n:.3f}")
    assert same_outcome / n >= 0.9
    assert sum(os_rr) / n >= 0.8


def test_did_you_mean_and_like_match_the_whoosh_engine(os_index: Path, bbc_index: Path) -> None:
    with Searcher(os_index, Config(index_dir=os_index)) as opensearch, Searcher(bbc_index, Config(index_dir=bbc_index)) as whoosh:
        for query in ("Christina Agulera wedding", "Xbox powr cable fire"):
            os_results, wh_results = opensearch.search(query), whoosh.search(query)
            assert os_results.suggestion is not None and wh_results.suggestion is not None
            assert os_results.suggestion.query == wh_results.suggestion.query
            assert os_results.hits[0].id == wh_results.hits[0].id
        like = opensearch.search(like=bbc_id("entertainment/260.txt"), limit=5)
        assert like.hits and bbc_id("entertainment/260.txt") not in {h.id for h in like.hits}


def test_explain_splits_each_score_over_fields_and_terms(os_index: Path) -> None:
    with Searcher(os_index, Config(index_dir=os_index)) as opensearch:
        for query in ("Bellamy fined Souness", 'Straw "prime minister"', "bellam*"):
            results = opensearch.search(query, explain=True)
            assert results.hits, query
            for hit in results.hits:
                assert sum(c.score for c in hit.explanation) == pytest.approx(hit.score, rel=1e-4), (query, hit.id)
        top = opensearch.search("Bellamy fined Souness", explain=True).hits[0].explanation
        assert {c.term for c in top} == {"bellami", "fine", "souness", proximity.EXPLAINED}
        assert {"headline", "body"} <= {c.field for c in top}
        phrase = opensearch.search('"prime minister"', explain=True).hits[0].explanation
        # a phrase scores by its words (BM25F), as on whoosh
        assert {c.term for c in phrase} - {proximity.EXPLAINED} == {"prime", "minist"}


def test_json_output_and_snippets_match_the_whoosh_engine(os_index: Path, bbc_index: Path) -> None:
    runner = CliRunner()
    outputs = []
    for index in (os_index, bbc_index):
        result = runner.invoke(search_main, ["--json", "--index", str(index), "-n", "3", "Jalalabad checkpoints"])
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.output))
    opensearch, whoosh = outputs
    assert opensearch.keys() == whoosh.keys()
    os_hit, wh_hit = opensearch["hits"][0], whoosh["hits"][0]
    assert os_hit["id"] == wh_hit["id"] == FOUNDING_ID
    for key in wh_hit:
        if key != "score":
            assert os_hit[key] == wh_hit[key], key


def test_query_features_match_the_whoosh_engine(os_index: Path, bbc_index: Path) -> None:
    queries = ['"bank of england"', "headline:gibraltar", "Gibraltar -Straw", "gibraltar OR yukos", "econom* growth",
               "chancelor~ budget", "title:\"jack straw\"", "(iraq OR iran) AND NOT nuclear"]
    with Searcher(os_index, Config(index_dir=os_index)) as opensearch, Searcher(bbc_index, Config(index_dir=bbc_index)) as whoosh:
        for query in queries:
            os_results, wh_results = opensearch.search(query, limit=20), whoosh.search(query, limit=20)
            assert os_results.total == wh_results.total, query
            assert os_results.fallback == wh_results.fallback, query
            if wh_results.total <= 20:
                assert {h.id for h in os_results.hits} == {h.id for h in wh_results.hits}, query


def test_doc_frequency_and_filters_match_the_whoosh_engine(os_index: Path, bbc_index: Path) -> None:
    from indexer.analysis import terms
    from query.syntax import parse

    engines = []
    for index in (os_index, bbc_index):
        generation = IndexStore(index).current()
        engines.append(get_engine(generation.engine, Config(index_dir=index)).open(generation.path))
    opensearch, whoosh = engines
    try:
        for word in ("england", "jalalabad", "the"):
            term = (terms(word) or [word])[0]
            assert opensearch.doc_frequency(term) == whoosh.doc_frequency(term), word
        root = parse("bank").root
        weights = Config().weights
        excluded = [h.article.id for h in whoosh.search(root, weights, 3).hits]
        filters = Filters(exclude_ids=tuple(excluded))
        assert opensearch.search(root, weights, 1000, filters).total == whoosh.search(root, weights, 1000, filters).total
        assert not {h.article.id for h in opensearch.search(root, weights, 50, filters).hits} & set(excluded)
    finally:
        for engine in engines:
            engine.close()


def _one_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


def test_unreachable_cluster_is_one_line_exit_3(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    result = CliRunner().invoke(index_main, ["build", str(BUNDLED_CORPUS), "--index", str(tmp_path / "idx"),
                                             "--engine", "opensearch", "--url", url, "-q"])
    assert result.exit_code == 3
    assert _one_line(result.output).startswith(f"search-index: cannot reach OpenSearch at {url}")
    assert not IndexStore(tmp_path / "idx").exists()


def test_missing_url_is_one_line_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(index_main, ["build", str(BUNDLED_CORPUS), "--index", str(tmp_path), "--engine", "opensearch", "-q"])
    assert result.exit_code == 2
    assert "--url" in _one_line(result.output)


def _fake_generation(index_dir: Path, url: str, name: str) -> None:
    """An index folder whose serving generation names `name` on the cluster at `url`."""
    store = IndexStore(index_dir)
    generation = store.new_generation()
    (generation / "opensearch.json").write_text(json.dumps({"url": url, "index": name, "alias": "nothing-here"}))
    store.write_meta(generation, GenerationMeta(engine="opensearch"))
    store.publish(generation)


def test_missing_and_red_index_are_one_line_exit_2(cluster: Cluster, tmp_path: Path) -> None:
    from opensearchpy import OpenSearch

    _fake_generation(tmp_path / "missing", cluster.url, "no-such-index")
    result = CliRunner().invoke(search_main, ["--index", str(tmp_path / "missing"), "bank"])
    assert result.exit_code == 2
    assert "'no-such-index' does not exist" in _one_line(result.output)

    client = OpenSearch(hosts=cluster.url.split(","))
    client.indices.create(index="red-test", body={"settings": {"index.routing.allocation.require._name": "nowhere"}},
                          params={"wait_for_active_shards": "0"})
    try:
        _fake_generation(tmp_path / "red", cluster.url, "red-test")
        result = CliRunner().invoke(search_main, ["--index", str(tmp_path / "red"), "bank"])
        assert result.exit_code == 2
        assert "index 'red-test' is red" in _one_line(result.output)
    finally:
        client.indices.delete(index="red-test")


class _OldElasticsearch(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = json.dumps({"version": {"number": "6.8.0"}, "tagline": "You Know, for Search"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_unsupported_server_is_one_line(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _OldElasticsearch)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        result = CliRunner().invoke(index_main, ["build", str(BUNDLED_CORPUS), "--index", str(tmp_path),
                                                 "--engine", "opensearch", "--url", url, "-q"])
    finally:
        server.shutdown()
    assert result.exit_code == 3
    assert _one_line(result.output) == (
        f"search-index: {url} runs elasticsearch 6.8.0; supported: OpenSearch 1.x, 2.x, 3.x")


def test_nightly_rebuild_moves_the_alias_under_running_searches(cluster: Cluster, os_config: Config,
                                                                tmp_path: Path) -> None:
    from opensearchpy import OpenSearch

    index_dir = tmp_path / "nightly"
    config = replace(os_config, index_dir=index_dir, opensearch_alias="nightly")
    settings = tmp_path / "search.toml"
    settings.write_text('opensearch_alias = "nightly"\nopensearch_replicas = 1\n')
    build = CliRunner().invoke(index_main, ["build", str(BUNDLED_CORPUS), str(BBC), "--index", str(index_dir),
                                            "--engine", "opensearch", "--url", cluster.url, "--shards", "2", "-q"],
                               env={"ARTICLE_SEARCH_CONFIG": str(settings)})
    assert build.exit_code == 0, build.output
    first = IndexStore(index_dir).current()
    client = OpenSearch(hosts=cluster.url.split(","))
    assert set(client.indices.get_alias(name="nightly")) == {first.meta.service["opensearch_index"]}

    stop, ready = tmp_path / "stop", tmp_path / "ready"
    searcher = subprocess.Popen([sys.executable, str(HERE / "search_loop.py"), str(index_dir), str(stop), str(ready)],
                                stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(600):
            if ready.exists() or searcher.poll() is not None:
                break
            time.sleep(0.1)
        from indexer import build_index

        report = build_index([BUNDLED_CORPUS, BBC, *DAILYMAIL_PARTS], config=config)
        deleted = get_engine("opensearch", config).prune(keep=1)
        new_generation = IndexStore(index_dir).current().name
        for _ in range(600):  # searches go on until some ran on the new generation
            if new_generation in ready.read_text() or searcher.poll() is not None:
                break
            time.sleep(0.1)
    finally:
        stop.touch()
        out, _ = searcher.communicate(timeout=120)
    loop = json.loads(out)
    second = IndexStore(index_dir).current()
    print(f"\nnightly rebuild: {report.indexed} articles in {report.seconds:.1f} s; "
          f"{loop['searches']} searches in another process during it, {loop['error_count']} errors")
    assert loop["error_count"] == 0, loop["errors"]
    assert loop["generations"] == sorted([first.name, second.name])
    assert set(client.indices.get_alias(name="nightly")) == {second.meta.service["opensearch_index"]}
    assert deleted == [first.meta.service["opensearch_index"]]
    assert not client.indices.exists(index=first.meta.service["opensearch_index"])
    assert report.indexed == second.meta.articles > 2226 + 4000

    stats = client.cat.indices(index=second.meta.service["opensearch_index"], params={"format": "json", "bytes": "b"})[0]
    corpus_bytes = sum(f.stat().st_size for f in [*BBC.rglob("*.txt"), *DAILYMAIL_PARTS])
    assert int(stats["docs.count"]) == report.indexed
    print(f"bytes per article (primaries, force-merged): {int(stats['pri.store.size']) / report.indexed:,.0f} "
          f"(corpus files {corpus_bytes / report.indexed:,.0f})")


def test_killing_a_node_mid_search_keeps_answering_and_it_rejoins(cluster: Cluster, os_index: Path) -> None:
    """Searches from several threads (load, as a web server puts on it) while a data node is killed:
    every search waits out the replica promotion and answers whole ("all shards failed" once failed it)."""
    query = '"bank of england" OR gibraltar'
    data_node = cluster.nodes[1]
    cluster.wait_for(2, status="green")  # every shard has its replica (earlier tests move shards around)
    with Searcher(os_index, Config(index_dir=os_index)) as searcher:
        expected = {h.id for h in searcher.search(query, limit=10).hits}
        answers: list[set[str]] = []
        errors: list[str] = []
        deadline = time.monotonic() + 8

        def search_on() -> None:
            while time.monotonic() < deadline:
                try:
                    answers.append({h.id for h in searcher.search(query, limit=10).hits})
                except Exception as exc:  # every failure counts
                    errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=search_on) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        cluster.stop_node(data_node, kill=True)
        for thread in threads:
            thread.join()
        assert data_node.process is not None and data_node.process.poll() is not None, "the node was killed"
        health = cluster.wait_for(1)
        assert health["number_of_nodes"] == 1
        assert not errors, f"{len(errors)} of {len(errors) + len(answers)} searches failed, first: {errors[:3]}"
        differing = [(i, sorted(answer ^ expected)) for i, answer in enumerate(answers) if answer != expected]
        assert not differing, f"{len(differing)} of {len(answers)} searches differed, first: {differing[:3]}"
        assert {h.id for h in searcher.search(query, limit=10).hits} == expected
        print(f"\n{len(answers)} searches from 4 threads while a node was killed, none failed")

        cluster.start_node(data_node)
        health = cluster.wait_for(2, timeout=180, status="green")
        assert health["number_of_nodes"] == 2 and health["status"] == "green"
        assert {h.id for h in searcher.search(query, limit=10).hits} == expected


def test_update_writer_replaces_and_removes_articles_in_place(os_config: Config, tmp_path: Path) -> None:
    from indexer import build_index

    config = replace(os_config, index_dir=tmp_path / "small", opensearch_alias="small")
    build_index([BUNDLED_CORPUS], config=config)
    generation = IndexStore(config.index_dir).current()
    engine = get_engine("opensearch", config)
    with Searcher(config.index_dir, config) as searcher:
        original = searcher.search("Jalalabad", limit=1).hits[0]
    index = engine.open(generation.path)
    article = index.search(parse_root("Jalalabad"), config.weights, 1).hits[0].article
    index.close()

    writer = engine.update(generation.path)
    writer.delete_path(article.path)
    writer.add(replace(article, headline="Checkpoints go up in Kandahar"))
    writer.commit()
    with Searcher(config.index_dir, config) as searcher:
        changed = searcher.search("Kandahar", limit=5)
        assert [h.id for h in changed.hits] == [original.id]
        assert changed.hits[0].headline == "Checkpoints go up in Kandahar"
        assert searcher.search("headline:Jalalabad", limit=5).total == 0

    writer = engine.update(generation.path)
    writer.delete_path(article.path)
    writer.commit()
    index = engine.open(generation.path)
    try:
        assert index.doc_count() == 0
    finally:
        index.close()


def parse_root(text: str):
    from query.syntax import parse

    return parse(text).root


class _FlakyCluster(BaseHTTPRequestHandler):
    """A stand-in node: answers the calls that open an index, then fails the first `failures` searches
    the way a cluster does while a lost node's replicas are promoted (503 "all shards failed"), or
    answers with some shards failed."""

    failures = 0
    partial = 0
    searches = 0

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_HEAD(self) -> None:  # noqa: N802 (http.server's name): the index exists
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/_cluster/health"):
            self._send(200, {"status": "green"})
        elif "/_mapping" in self.path:
            self._send(200, {"flaky": {"mappings": {"properties": {"vocabulary": {"properties": {}}}}}})
        else:
            self._send(200, {"version": {"number": "2.19.1", "distribution": "opensearch"}})

    def do_POST(self) -> None:  # noqa: N802: a search
        self.rfile.read(int(self.headers.get("content-length") or 0))
        cls = type(self)
        cls.searches += 1
        if cls.searches <= cls.failures:
            self._send(503, {"error": {"type": "search_phase_execution_exception", "reason": "all shards failed"},
                             "status": 503})
            return
        failed = 1 if cls.searches <= cls.failures + cls.partial else 0
        hit = {"_id": "a1", "_score": 1.5, "_source": {"article": {"id": "a1", "headline": "Bank news", "path": "x"}}}
        self._send(200, {"_shards": {"total": 2, "successful": 2 - failed, "failed": failed},
                         "hits": {"total": {"value": 2 - failed}, "hits": [hit] * (2 - failed)}})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky(tmp_path: Path) -> Iterator[Path]:
    """A generation folder whose index lives on the stand-in node; the handler's counters reset."""
    from indexer.engines.opensearch import Target

    _FlakyCluster.failures = _FlakyCluster.partial = _FlakyCluster.searches = 0
    server = HTTPServer(("127.0.0.1", 0), _FlakyCluster)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Target(f"http://127.0.0.1:{server.server_port}", "flaky", "flaky-alias").save(tmp_path)
    try:
        yield tmp_path
    finally:
        server.shutdown()


def test_a_search_waits_while_a_lost_node_is_replaced(flaky: Path) -> None:
    """Item 12 of issue 11: searches during a node loss wait and retry instead of failing at once."""
    from indexer.engines.opensearch import OpenSearchEngine

    _FlakyCluster.failures, _FlakyCluster.partial = 7, 2  # the client itself retries a 503 twice at once
    index = OpenSearchEngine().open(flaky)
    try:
        page = index.search(parse_root("bank"), Config().weights, 10)
    finally:
        index.close()
    assert page.total == 2 and [h.article.id for h in page.hits] == ["a1", "a1"]  # whole, not partial
    assert _FlakyCluster.searches == 10


def test_a_search_gives_up_after_the_bound_with_one_line(flaky: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from indexer.engines import opensearch
    from indexer.errors import EngineUnavailable

    monkeypatch.setattr(opensearch, "RETRY_SECONDS", 0.5)
    _FlakyCluster.failures = 10**6
    index = opensearch.OpenSearchEngine().open(flaky)
    try:
        with pytest.raises(EngineUnavailable) as raised:
            index.search(parse_root("bank"), Config().weights, 10)
    finally:
        index.close()
    message = str(raised.value)
    assert "\n" not in message and "could not answer for 0.5 s" in message and "all shards failed" in message
    assert _FlakyCluster.searches > 3  # retried beyond the client's own immediate retries
