"""Benchmark: `search-index serve` under 1, 10 and 50 concurrent clients, per engine.

Each engine's index of the 48k real corpus (BBC + Reuters-21578 + Daily Mail, made as bench/run.py
makes it) is served by the real command on loopback; clients (threads, one keep-alive connection
each) send the 50 queries of bench/queries.txt to /api/search (10 hits with snippets) in turns,
after a warm-up pass. Prints a markdown table of requests per second and p50/p95 latency. Client
and server share the machine's cores, as they would on one box. Nothing is written into the project.

    python bench/web.py [--quick] [--work DIR] [--engines whoosh,tantivy] [--clients 1,10,50]
                        [--requests 400] [--opensearch-url URL]
"""
from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from run import count_articles, prepare_real  # noqa: E402

QUERIES = [q for q in (BENCH / "queries.txt").read_text(encoding="utf-8").splitlines() if q.strip()]


@dataclass(frozen=True)
class Row:
    engine: str
    clients: int
    requests: int
    seconds: float
    latencies: tuple[float, ...]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def build(corpus: Path, index: Path, engine: str, opensearch_url: str | None) -> None:
    if (index / "CURRENT").exists():
        return
    command = ["search-index", "build", str(corpus), "--index", str(index), "--engine", engine, "--quiet"]
    if opensearch_url:
        command += ["--url", opensearch_url]
    started = time.monotonic()
    subprocess.run(command, check=True)
    print(f"built {engine} in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)


def start_server(index: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    server = subprocess.Popen(["search-index", "serve", "--index", str(index), "--port", str(port), "--timeout", "60"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if get(http.client.HTTPConnection("127.0.0.1", port, timeout=5), "/healthz")[0] == 200:
                return server, port
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def get(connection: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read()


def load(port: int, clients: int, requests: int) -> tuple[float, list[float], int]:
    """`requests` searches spread over `clients` threads; (wall seconds, latencies, failed requests)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine: list[float] = []
        failed = 0
        start.wait()
        for turn in range(number, requests, clients):
            path = "/api/search?" + urlencode({"q": QUERIES[turn % len(QUERIES)]})
            began = time.perf_counter()
            status, _ = get(connection, path)
            mine.append(time.perf_counter() - began)
            failed += status != 200
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies, errors[0]


def measure(engine: str, index: Path, levels: list[int], requests: int) -> list[Row]:
    server, port = start_server(index)
    try:
        load(port, 1, len(QUERIES))  # warm-up: every query once (caches, lazy imports)
        rows = []
        for clients in levels:
            seconds, latencies, errors = load(port, clients, max(requests, clients * 4))
            rows.append(Row(engine, clients, len(latencies), seconds, tuple(latencies), errors))
            print(f"{engine} x{clients}: {rows[-1].rate:.0f} req/s", file=sys.stderr, flush=True)
        return rows
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def table(rows: list[Row], articles: int) -> str:
    lines = [f"| engine ({articles:,} articles) | clients | requests | req/s | p50 ms | p95 ms | errors |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.engine} | {r.clients} | {r.requests} | {r.rate:,.0f} | {r.percentile(0.5):.0f} | "
                     f"{r.percentile(0.95):.0f} | {r.errors} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="BBC + one Reuters file only (smoke test)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "article-search-bench")
    parser.add_argument("--engines", default="whoosh,tantivy")
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--requests", type=int, default=400, help="searches per level (at least 4 per client)")
    parser.add_argument("--opensearch-url", default=os.environ.get("ARTICLE_SEARCH_OPENSEARCH_URL"),
                        help="a cluster for the opensearch engine (add opensearch to --engines)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    corpus = prepare_real(args.work, args.quick)
    articles = count_articles(corpus)
    levels = [int(n) for n in args.clients.split(",") if n]
    rows: list[Row] = []
    for engine in [e for e in args.engines.split(",") if e]:
        index = args.work / "web-indexes" / ("quick" if args.quick else "real-48k") / engine
        build(corpus, index, engine, args.opensearch_url if engine == "opensearch" else None)
        rows += measure(engine, index, levels, args.requests)
    print(table(rows, articles))


if __name__ == "__main__":
    main()
