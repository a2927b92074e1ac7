"""What the web tests share: a small real index (the bundled corpus, BBC tech, one Daily Mail part and
a folder of hostile records), and `search-index serve` run as a user runs it, on a free loopback port."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from collections import Counter
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx
from conftest import BBC, BUNDLED_CORPUS, DAILYMAIL

if TYPE_CHECKING:
    import pytest

    from query.searcher import Searcher

#: Records whose every field tries to get markup or a script into the page.
HOSTILE_ID = 'hostile-"><script>alert(4)</script>'
HOSTILE = {
    "id": HOSTILE_ID,
    "headline": "<script>alert(1)</script> Zanzibarian ferry <img src=x onerror=alert(2)>",
    "description": "A <b>bold</b> claim & an onerror=alert(5) attribute",
    "body": "The Zanzibarian ferry sailed. <iframe src=//evil.example></iframe>\n\nSecond paragraph </p><p onclick=x>.",
    "date": "2020-09-09",
    "url": "javascript:alert(3)",
    "categories": ["<i>weird</i>", "news"],
    "source": "<svg onload=alert(6)>",
}

#: A text file: its reader keeps markup as text, so the headline itself holds a script.
HOSTILE_TEXT = ("<script>alert(1)</script> Zanzibarian ferry <img src=x onerror=alert(2)>\n\n"
                "The ferry <iframe src=//evil.example></iframe> sailed on time.\n")
HOSTILE_TEXT_ID = "hostile/hostile.txt"


def small_corpus(root: Path) -> list[Path]:
    """Four folders: the bundled corpus, BBC tech (401), Daily Mail part 7 (969, with dates and
    categories) and the hostile records (2)."""
    dailymail = root / "dailymail"
    dailymail.mkdir(parents=True, exist_ok=True)
    shutil.copy(DAILYMAIL / "part-007.jsonl", dailymail / "part-007.jsonl")
    hostile = root / "hostile"
    hostile.mkdir(exist_ok=True)
    (hostile / "hostile.jsonl").write_text(json.dumps(HOSTILE) + "\n", encoding="utf-8")
    (hostile / "hostile.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    return [BUNDLED_CORPUS, BBC / "tech", dailymail, hostile]


_SMALL: dict[str, Path] = {}  # engine -> the small index, built once per test session


def small_index(tmp_path_factory: "pytest.TempPathFactory", engine: str = "whoosh") -> Path:
    """The index of `small_corpus` for an engine, shared by the test modules that read it (read-only)."""
    if engine not in _SMALL:
        root = tmp_path_factory.mktemp(f"web-{engine}")
        _SMALL[engine] = build(small_corpus(root / "corpus"), root / "index", engine)
    return _SMALL[engine]


def build(folders: list[Path], index: Path, engine: str = "whoosh") -> Path:
    from indexer import build_index
    from indexer.config import Config

    report = build_index(folders, index, Config(index_dir=index, engine=engine))
    assert not report.skipped, report.skipped
    return index


def brute_force_facets(searcher: "Searcher", query: str, **filters: str) -> dict[str, Counter[str]]:
    """Every matching article, counted by category, source, year and author from its own fields."""
    from indexer.engines import keywords

    hits = searcher.search(query, limit=10_000, snippets=0, **filters).hits
    return {
        "category": Counter(c for hit in hits for c in keywords(hit.categories)),
        "source": Counter(s for hit in hits for s in keywords([hit.source])),
        "year": Counter(hit.date[:4] for hit in hits if hit.date),
        "author": Counter(name for hit in hits for name in keywords(hit.authors)),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def command(name: str) -> str:
    """A console script of this environment."""
    return str(Path(sys.executable).parent / name)


class Server:
    """`search-index serve` in a child process; its output goes to a file the test can read."""

    def __init__(self, index: Path, log: Path, *options: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.command = [command("search-index"), "serve", "--index", str(index), "--port", str(self.port), *options]
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Server":
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen(self.command, stdout=output, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(f"{self.url}/static/style.css", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"the server did not start: {self.output()}")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def get(self, path: str, **options: Any) -> httpx.Response:
        return httpx.get(self.url + path, timeout=60, **options)
