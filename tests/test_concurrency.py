"""One Searcher shared by many threads, as a web server or a notebook uses it: every answer right,
no error, while generations switch under it; and bad arguments never count as index damage."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import BBC, PROJECT_ROOT
from indexer import build_index
from indexer.config import Config
from indexer.errors import QueryError
from query.searcher import Searcher

ENGINES = ("whoosh", "tantivy")
SEARCH_INDEX = Path(sys.executable).parent / "search-index"
THREADS = 8
# searches per thread; ARTICLE_SEARCH_STRESS=500 gives the 8 x 500 run
SEARCHES = int(os.environ.get("ARTICLE_SEARCH_STRESS", "60"))
QUERIES: tuple[dict[str, Any], ...] = (
    {"query": "blair brown election"},
    {"query": '"prime minister" -blair'},
    {"query": "chelsea OR arsenal", "limit": 20},
    {"query": "mobile*"},
    {"query": "economy~"},
    {"query": "oil prices", "sort": "date"},
    {"query": "film award", "field": "headline"},
    {"query": "broadband", "explain": True},
    {"query": "ipod sales apple"},
    {"query": "goverment spending"},  # did-you-mean
    {"query": "+(chelsea OR arsenal) -(mourinho OR wenger)"},
    {"query": "music", "category": "no-such-category"},
)

Answer = tuple[int, tuple[str, ...], tuple[tuple[str, ...], ...]]


def answer(searcher: Searcher, options: dict[str, Any]) -> Answer:
    """What a user sees of a search: the count, the hits in order, each hit's snippet texts."""
    results = searcher.search(**options)
    return results.total, tuple(h.id for h in results.hits), tuple(tuple(s.text for s in h.snippets) for h in results.hits)


def hammer(searcher: Searcher, expected: dict[int, Answer], searches: int,
           between: Callable[[], None] = lambda: None) -> tuple[list[str], list[str]]:
    """THREADS threads each run `searches` searches on one Searcher: (errors, wrong answers)."""
    errors: list[str] = []
    wrong: list[str] = []
    start = threading.Barrier(THREADS)

    def work(seed: int) -> None:
        start.wait()
        for n in range(searches):
            number = (seed * 7 + n) % len(QUERIES)
            try:
                got = answer(searcher, QUERIES[number])
            except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                errors.append(f"{QUERIES[number]}: {type(exc).__name__}: {exc}")
                continue
            if got != expected[number]:
                wrong.append(f"{QUERIES[number]}: {got[:2]} != {expected[number][:2]}")
            between()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors, wrong


def expected_answers(index: Path) -> dict[int, Answer]:
    with Searcher(index) as alone:
        return {n: answer(alone, q) for n, q in enumerate(QUERIES)}


@pytest.fixture(scope="module", params=ENGINES)
def bbc(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BBC (2,225 articles: the whoosh writer runs several processes) in each embedded engine, private
    to this module: the rebuild test rebuilds it."""
    pytest.importorskip(request.param)
    index = tmp_path_factory.mktemp(f"threads-{request.param}")
    build_index([BBC], index, Config(index_dir=index, engine=request.param))
    return index


def test_threads_sharing_one_searcher_get_the_same_answers_as_one_thread(bbc: Path) -> None:
    expected = expected_answers(bbc)
    with Searcher(bbc) as shared:
        errors, wrong = hammer(shared, expected, SEARCHES)
    assert errors == [] and wrong == [], (errors[:5], wrong[:5])


def test_threads_keep_answering_right_while_rebuilds_switch_and_prune_generations(bbc: Path) -> None:
    """A rebuild (keep 1: it deletes the generation the Searcher has open) in another process while
    eight threads search the same Searcher."""
    expected = expected_answers(bbc)
    engine = Searcher(bbc).store.current().engine
    stop = threading.Event()
    switches: list[int] = []
    failures: list[str] = []

    def rebuild() -> None:
        done = subprocess.run([str(SEARCH_INDEX), "rebuild", str(BBC), "--index", str(bbc),
                               "--engine", engine, "--keep", "1", "--quiet", "--wait", "120"],
                              cwd=PROJECT_ROOT, capture_output=True, text=True)
        switches.append(done.returncode)
        if done.returncode:
            failures.append(done.stderr)
        stop.set()

    rebuilder = threading.Thread(target=rebuild)
    with Searcher(bbc) as shared:
        before = answer_generation(shared)
        rebuilder.start()
        errors, wrong = [], []
        while not stop.is_set():
            round_errors, round_wrong = hammer(shared, expected, 5, between=lambda: time.sleep(0.02))  # leave the rebuild some CPU
            errors += round_errors
            wrong += round_wrong
        rebuilder.join()
        assert switches == [0], failures
        assert errors == [] and wrong == [], (errors[:5], wrong[:5])
        assert answer_generation(shared) == shared.store.current_name() != before


def answer_generation(searcher: Searcher) -> str:
    return searcher.search("blair").generation


@pytest.mark.parametrize("call, error", [
    (dict(query="blair", limit=2.5), TypeError),
    (dict(query="blair", limit=True), TypeError),
    (dict(like=123), TypeError),
    (dict(query=["blair"]), TypeError),
    (dict(query="blair", since=2005), TypeError),
    (dict(query="blair", limit=0), QueryError),
    (dict(query="blair", sort="newest"), QueryError),
])
def test_a_bad_argument_is_an_error_at_the_call_and_never_index_damage(bbc: Path, call: dict[str, Any],
                                                                       error: type[Exception]) -> None:
    with Searcher(bbc) as searcher:
        serving = searcher.store.current_name()
        with pytest.raises(error):
            searcher.search(**call)
        after = searcher.search("blair")
        assert after.generation == serving and after.warning is None and searcher.warning is None
        assert after.total > 0
