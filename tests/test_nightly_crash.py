"""Crash safety: SIGKILL an update or a rebuild at many points; searches in other processes during switches.

Kills use the ARTICLE_SEARCH_TEST_KILL_AT hook (indexer/faults.py) in a forked child, so every named
point is really reached and killed there, plus a few kills at random moments of the installed command.
After each kill a search must answer from one complete generation (old or new corpus), and the next
run must succeed and leave the index equal to the corpus.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from nightly_support import bbc_article, generation_dirs, make_corpus, serving_count, total

from indexer import faults
from indexer.build import build_index
from indexer.update import update_index

SEARCH_INDEX = Path(sys.executable).parent / "search-index"

UPDATE_POINTS = [
    "lock-acquired:1", "generation-created:1", "clone-file:1", "clone-file:2", "deleted:1", "deleted:2",
    "file-read:1", "file-indexed:1", "file-indexed:2", "before-commit:1", "after-commit:1", "checked:1",
    "atomic-write-tmp:1", "manifest-written:1", "atomic-write-tmp:2", "meta-written:1", "synced:1",
    "atomic-write-tmp:3", "published:1", "pruned:1", "last-run-written:1",
]
REBUILD_POINTS = [
    "generation-created:1", "file-indexed:1", "file-indexed:30", "before-commit:1", "after-commit:1",
    "checked:1", "meta-written:1", "atomic-write-tmp:3", "published:1", "pruned:1",
]


def killed_at(point: str, run: Callable[[], object]) -> None:
    """Run `run` in a forked child that SIGKILLs itself at `point`; fail if it never got there."""
    pid = os.fork()
    if pid == 0:  # child
        os.environ[faults.KILL_ENV] = point
        faults.reset()
        try:
            run()
        finally:
            os._exit(99)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"the run never reached {point}"


def day(corpus: Path, n: int) -> None:
    """Day n's changes: a new article with a unique word, a correction with another, one removal."""
    (corpus / "tech" / f"8{n:02d}.txt").write_text(f"Zqnew{n} launch announced\n\nThe zqnew{n} device ships soon.\n")
    with open(corpus / "business" / f"{n + 1:03d}.txt", "a", encoding="latin-1") as stream:
        stream.write(f"\n\nUpdated: zqfix{n} figures were revised.\n")
    (corpus / "entertainment" / f"{n + 1:03d}.txt").unlink()


def served_day(index: Path, n: int, count_before: int) -> int:
    """Which day's corpus the serving generation holds (n-1 or n); it must be wholly one of them."""
    new, fixed, count = total(index, f"zqnew{n}"), total(index, f"zqfix{n}"), serving_count(index)
    if new:
        assert (fixed, count) == (1, count_before), f"half-applied update: zqfix={fixed}, {count} articles"
        return n
    assert (fixed, count) == (0, count_before), f"half-applied update: zqfix={fixed}, {count} articles"
    return n - 1


def test_update_killed_at_every_point_then_next_run_succeeds(tmp_path: Path) -> None:
    corpus, index = make_corpus(tmp_path / "corpus"), tmp_path / "index"
    build_index([corpus], index)
    count = serving_count(index)
    for n, point in enumerate(UPDATE_POINTS, start=1):
        day(corpus, n)
        killed_at(point, lambda: update_index([corpus], index))
        served = served_day(index, n, count)  # a search answers from a complete generation
        switched = UPDATE_POINTS.index(point) >= UPDATE_POINTS.index("published:1")
        assert served == (n if switched else n - 1), point
        report = update_index([corpus], index)
        assert report.indexed == count and served_day(index, n, count) == n, point
        if served < n:
            assert (report.added, report.updated, report.removed) == (1, 1, 1), point
        assert len(generation_dirs(index)) <= 2, f"leftovers after {point}: {generation_dirs(index)}"


def test_rebuild_killed_at_every_point_then_next_run_succeeds(tmp_path: Path) -> None:
    corpus, index = make_corpus(tmp_path / "corpus", per_category=12), tmp_path / "index"
    build_index([corpus], index)
    count = serving_count(index)
    for n, point in enumerate(REBUILD_POINTS, start=1):
        day(corpus, n)
        killed_at(point, lambda: build_index([corpus], index, mode="rebuild"))
        switched = REBUILD_POINTS.index(point) >= REBUILD_POINTS.index("published:1")
        assert served_day(index, n, count) == (n if switched else n - 1), point
        build_index([corpus], index, mode="rebuild")
        assert served_day(index, n, count) == n and len(generation_dirs(index)) <= 2, point


def test_installed_command_killed_at_random_moments(tmp_path: Path) -> None:
    corpus, index = make_corpus(tmp_path / "corpus"), tmp_path / "index"
    build_index([corpus], index)
    count = serving_count(index)
    chance = random.Random(7)
    for n in range(1, 4):
        day(corpus, n)
        command = "update" if n % 2 else "rebuild"
        run = subprocess.Popen([str(SEARCH_INDEX), command, str(corpus), "--index", str(index), "-q"])
        time.sleep(chance.uniform(0.2, 1.5))
        run.send_signal(signal.SIGKILL)
        run.wait()
        served_day(index, n, count)
        done = subprocess.run([str(SEARCH_INDEX), command, str(corpus), "--index", str(index), "-q"], timeout=120)
        assert done.returncode == 0 and served_day(index, n, count) == n


READER = r"""
import json, sys, time
from pathlib import Path
from query import Searcher
index, stop = Path(sys.argv[1]), Path(sys.argv[2])
searcher = Searcher(index)
n = 0
while not stop.exists():
    try:
        fresh = n % 4 == 0
        s = Searcher(index) if fresh else searcher
        r = s.search("zqside", limit=50)
        print(json.dumps({"generation": r.generation, "total": r.total, "hits": len(r.hits)}), flush=True)
        if fresh:
            s.close()
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
    n += 1
    time.sleep(0.01)
"""


def test_searches_in_other_processes_never_fail_during_rebuilds_and_switches(tmp_path: Path) -> None:
    corpus, index = make_corpus(tmp_path / "corpus", per_category=16), tmp_path / "index"
    side = corpus / "side"
    side.mkdir()
    for i in range(10):
        (side / f"{i}.txt").write_text(f"Zqside story {i}\n\n{bbc_article('politics', 100 + i)}", encoding="latin-1")
    build_index([corpus], index)
    stop = tmp_path / "stop"
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(index), str(stop)], stdout=subprocess.PIPE, text=True)
               for _ in range(2)]
    started = [r.stdout.readline() for r in readers if r.stdout]  # both are searching before the first switch
    try:
        for round_ in range(6):  # alternate 10 and 5 side stories, by rebuild and by update
            for i in range(5, 10):
                path = side / f"{i}.txt"
                if round_ % 2 == 0:
                    path.rename(path.with_suffix(".off"))
                else:
                    path.with_suffix(".off").rename(path)
            (build_index if round_ % 3 == 0 else update_index)([corpus], index)
        time.sleep(0.5)
    finally:
        stop.touch()
        outputs = [r.communicate(timeout=60)[0] for r in readers]
    answers = [json.loads(line) for out in [*started, *outputs] for line in out.splitlines()]
    errors = [a["error"] for a in answers if "error" in a]
    assert not errors, errors[:5]
    assert len(answers) >= 20
    by_generation: dict[str, set[int]] = {}
    for a in answers:
        assert a["total"] in (5, 10) and a["hits"] == a["total"], a  # every answer complete
        by_generation.setdefault(a["generation"], set()).add(a["total"])
    assert all(len(totals) == 1 for totals in by_generation.values()), by_generation
    assert len(by_generation) >= 3, "the readers saw several switches"
