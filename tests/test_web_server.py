"""`search-index serve` as a user runs it, over real sockets: concurrent clients, an update under
load, the token rule, and a server that stops cleanly."""
from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from conftest import BBC, BUNDLED_CORPUS, PROJECT_ROOT
from web_support import Server, command

from indexer.generations import IndexStore

QUERIES = [q for q in (PROJECT_ROOT / "bench" / "queries.txt").read_text(encoding="utf-8").splitlines() if q.strip()][:15]
TOKEN = "a-token-for-the-loopback-test-7731"


def answers(server: Server, client: httpx.Client) -> list[dict]:
    found = []
    for query in QUERIES:
        response = client.get(f"{server.url}/api/search", params={"q": query, "facets": "all"})
        assert response.status_code == 200, response.text
        found.append(response.json())
    return found


def test_ten_concurrent_clients_get_what_one_client_gets(bbc_index: Path, tmp_path: Path) -> None:
    with Server(bbc_index, tmp_path / "server.log") as server:
        with httpx.Client(timeout=120) as alone:
            expected = answers(server, alone)
        assert sum(bool(answer["hits"]) for answer in expected) >= 10
        got: list[list[dict] | BaseException] = [[] for _ in range(10)]

        def client(number: int) -> None:
            try:
                with httpx.Client(timeout=120) as mine:
                    got[number] = answers(server, mine)
            except BaseException as exc:  # reported below, with the others
                got[number] = exc

        threads = [threading.Thread(target=client, args=(n,)) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for number, result in enumerate(got):
            assert result == expected, f"client {number} got other answers"


def test_an_update_during_the_load_is_served_without_a_restart(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(BBC / "tech", corpus / "tech")
    shutil.copytree(BUNDLED_CORPUS, corpus / "bundled")
    index = tmp_path / "index"
    folders = [str(corpus / "tech"), str(corpus / "bundled")]
    subprocess.run([command("search-index"), "build", *folders, "--index", str(index), "--quiet"], check=True, timeout=300)
    before = IndexStore(index).current_name()
    with Server(index, tmp_path / "server.log") as server:
        assert server.get("/api/search", params={"q": "Quetzalcoatlus"}).json()["total"] == 0
        failures: list[str] = []
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(timeout=120) as client:
                while not stop.is_set():
                    for query in ("broadband", "mobile phone", "Jalalabad checkpoints"):
                        response = client.get(f"{server.url}/api/search", params={"q": query})
                        if response.status_code != 200 or not response.json()["hits"]:
                            failures.append(f"{query}: {response.status_code} {response.text[:200]}")

        clients = [threading.Thread(target=load) for _ in range(4)]
        for thread in clients:
            thread.start()
        try:
            (corpus / "tech" / "999.txt").write_text(
                "Quetzalcoatlus drone maker floats\n\nA maker of Quetzalcoatlus drones floated its shares today.\n",
                encoding="utf-8")
            done = subprocess.run([command("search-index"), "update", *folders, "--index", str(index), "--quiet"],
                                  timeout=300)
            assert done.returncode == 0
        finally:
            stop.set()
            for thread in clients:
                thread.join()
        assert failures == []
        found = server.get("/api/search", params={"q": "Quetzalcoatlus"}).json()
        assert found["total"] == 1 and found["hits"][0]["id"] == "tech/999.txt"
        health = server.get("/healthz").json()
        assert health["generation"] == IndexStore(index).current_name() != before and health["articles"] == 403


@pytest.mark.parametrize("options, message", [
    (["--host", "0.0.0.0"], "lets other machines in: give --token TOKEN"),
    (["--token", "short"], "at least 16 characters"),
])
def test_serving_beyond_loopback_needs_a_token(bbc_index: Path, options: list[str], message: str) -> None:
    done = subprocess.run([command("search-index"), "serve", "--index", str(bbc_index), "--port", "0", *options],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr


def test_a_missing_index_is_reported_before_serving(tmp_path: Path) -> None:
    done = subprocess.run([command("search-index"), "serve", "--index", str(tmp_path / "none")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no index at" in done.stderr and "search-index build" in done.stderr


def test_the_token_is_checked_and_never_logged(bbc_index: Path, tmp_path: Path) -> None:
    with Server(bbc_index, tmp_path / "server.log", env={"ARTICLE_SEARCH_TOKEN": TOKEN}) as server:
        assert server.get("/api/search", params={"q": "blair"}).status_code == 401
        assert server.get("/api/search", params={"q": "blair"}, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        with httpx.Client(base_url=server.url, timeout=60) as browser:
            assert browser.post("/login", data={"token": TOKEN}).status_code == 303  # to the search page, with the cookie
            assert browser.get("/", params={"q": "blair"}).status_code == 200
        assert "(token required)" in server.output()
    log = server.output()
    assert "GET /api/search?q=blair" in log and TOKEN not in log
