"""A throw-away OpenSearch cluster of local nodes on loopback, for the tests.

Each node gets its own config copy, data and log folders under a temporary directory, distinct HTTP
and transport ports, and a small heap. Node 0 is the only cluster-manager-eligible node; the others
hold data only, so stopping one of them never leaves the cluster without a manager.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CACHE = PROJECT_ROOT / ".cache" / "opensearch"
CORPORA = PROJECT_ROOT.parent / "shared" / "corpora"
BBC = CORPORA / "bbc"
BUNDLED_CORPUS = PROJECT_ROOT / "corpus"
KNOWN_ITEMS = PROJECT_ROOT.parent / "shared" / "eval" / "known_items_dev.tsv"
# Two of the eight Daily Mail part files (about 4,150 articles) keep the session to a minute or two.
DAILYMAIL_PARTS = tuple(CORPORA / "dailymail_finescoop_2020" / f"part-00{n}.jsonl" for n in (0, 7))
HEAP = "-Xms512m -Xmx512m"
CLUSTER_NAME = "article-search-test"
NOBODY = 65534


def find_distribution() -> Path | None:
    """The unpacked distribution fetched by .ci/opensearch.sh, or None."""
    homes = sorted(p for p in CACHE.glob("opensearch-*") if (p / "bin" / "opensearch").is_file())
    return homes[-1] if homes else None


def java_home() -> str | None:
    for name in ("OPENSEARCH_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(name):
            return os.environ[name]
    java = shutil.which("java")
    return str(Path(java).resolve().parent.parent) if java else None


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (bound together so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def http_json(url: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _unprivileged() -> dict:
    """OpenSearch refuses to run as root: as root (CI), run the nodes as nobody."""
    if os.geteuid() != 0:
        return {}
    return {"user": NOBODY, "group": NOBODY, "extra_groups": []}


def _give_away(path: Path) -> None:
    """Hand a node's folders to the user the node runs as."""
    if os.geteuid() != 0:
        return
    os.chown(path.parent, NOBODY, NOBODY)
    for folder, dirs, files in os.walk(path):
        os.chown(folder, NOBODY, NOBODY)
        for name in files:
            os.chown(os.path.join(folder, name), NOBODY, NOBODY)


@dataclass
class Node:
    name: str
    home: Path
    http_port: int
    transport_port: int
    manager: bool
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


@dataclass
class Cluster:
    distribution: Path
    root: Path
    size: int = 2
    nodes: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        if os.geteuid() == 0:  # nobody may not reach the project folder (a clone under /root): copy
            copy = self.root / "distribution"
            shutil.copytree(self.distribution, copy, symlinks=True)
            _give_away(copy)
            self.distribution = copy
        ports = free_ports(2 * self.size)
        for i in range(self.size):
            home = self.root / f"node{i}"
            self.nodes.append(Node(f"node{i}", home, ports[2 * i], ports[2 * i + 1], manager=i == 0))
        seeds = [f"127.0.0.1:{n.transport_port}" for n in self.nodes]
        for node in self.nodes:
            self._configure(node, seeds)

    @property
    def url(self) -> str:
        """All nodes, comma-separated: the client fails over between them."""
        return ",".join(n.url for n in self.nodes)

    def _configure(self, node: Node, seeds: list[str]) -> None:
        config = node.home / "config"
        shutil.copytree(self.distribution / "config", config)
        options = [line for line in (config / "jvm.options").read_text().splitlines()
                   if not line.strip().startswith(("-Xms", "-Xmx")) and "logs/" not in line and "HeapDump" not in line]
        (config / "jvm.options").write_text("\n".join(options) + "\n")
        settings = {
            "cluster.name": CLUSTER_NAME,
            "node.name": node.name,
            "node.roles": ["cluster_manager", "data"] if node.manager else ["data"],
            "path.data": str(node.home / "data"),
            "path.logs": str(node.home / "logs"),
            "network.host": "127.0.0.1",
            "http.port": node.http_port,
            "transport.port": node.transport_port,
            "discovery.seed_hosts": seeds,
            "cluster.initial_cluster_manager_nodes": [n.name for n in self.nodes if n.manager],
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.auto_create_index": False,
        }
        lines = [f"{k}: {json.dumps(v)}" for k, v in settings.items() if v is not None]
        (config / "opensearch.yml").write_text("\n".join(lines) + "\n")
        (node.home / "logs").mkdir(parents=True, exist_ok=True)
        _give_away(node.home)

    def start_node(self, node: Node) -> None:
        env = {**os.environ, "OPENSEARCH_PATH_CONF": str(node.home / "config"), "OPENSEARCH_JAVA_OPTS": HEAP}
        home = java_home()
        if home:
            env["OPENSEARCH_JAVA_HOME"] = home
        log = open(node.home / "logs" / "stdout.log", "ab")
        node.process = subprocess.Popen(
            [str(self.distribution / "bin" / "opensearch"), "-q"], cwd=node.home, env=env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **_unprivileged(),
        )
        log.close()

    def start(self, timeout: float = 180.0) -> None:
        for node in self.nodes:
            self.start_node(node)
        self.wait_for(len(self.nodes), timeout)

    def wait_for(self, nodes: int, timeout: float = 120.0, status: str = "yellow") -> dict:
        """Wait until the cluster has `nodes` nodes and at least `status` health."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if all(n.process is None or n.process.poll() is not None for n in self.nodes):
                raise RuntimeError(f"every OpenSearch node exited\n{self.logs()}")
            for node in self.nodes:
                if node.process is None or node.process.poll() is not None:
                    continue
                try:
                    health = http_json(f"{node.url}/_cluster/health?wait_for_nodes={nodes}&wait_for_status={status}&timeout=5s", 10)
                except (OSError, urllib.error.URLError, ValueError) as exc:
                    last = exc
                    continue
                if not health.get("timed_out"):
                    return health
                last = health
            time.sleep(1)
        raise TimeoutError(f"cluster not ready ({nodes} nodes, {status}) after {timeout:.0f}s: {last}\n{self.logs()}")

    def stop_node(self, node: Node, kill: bool = False) -> None:
        process = node.process
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            self.stop_node(node)

    def logs(self, tail: int = 30) -> str:
        out = []
        for node in self.nodes:
            path = node.home / "logs" / "stdout.log"
            if path.is_file():
                lines = path.read_text(errors="replace").splitlines()[-tail:]
                out.append(f"--- {node.name} ---\n" + "\n".join(lines))
        return "\n".join(out)
