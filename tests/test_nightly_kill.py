"""A killed rebuild leaves nothing running and nothing locked, at real size.

`search-index rebuild` of all of BBC (2,225 articles) runs parser processes (indexer.parallel) and
whoosh's multiprocessing writer (WhooshWriter.PARALLEL_FROM = 2,000). cron, the OOM killer and
`kill -9` kill only the main process: within seconds no other process of the run may be left (they
used to sleep forever holding the index LOCK, so every later run exited 75), the next run must
proceed, and the index that served before must keep answering.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BBC
from nightly_support import serving_count, total

from indexer.faults import KILL_ENV
from indexer.generations import IndexStore
from indexer.parallel import default_workers

SEARCH_INDEX = Path(sys.executable).parent / "search-index"
BBC_ARTICLES, TECH_ARTICLES = 2225, 401
# Early in parsing (parser processes only), while whoosh's sub-writers run (2,000 articles passed),
# just before and just after the commit that merges their segments.
KILL_POINTS = ("file-indexed:40", "file-indexed:2100", "before-commit:1", "after-commit:1")
GONE_WITHIN = 5.0  # seconds after the main process died

pytestmark = pytest.mark.skipif(default_workers() < 2, reason="one CPU: a build forks no parser or sub-writer process")


def session_processes(session: int) -> list[int]:
    """Live processes (zombies hold nothing) of a session, found in /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        state, _, _, sid = stat[stat.rindex(")") + 2:].split()[:4]
        if int(sid) == session and state != "Z":
            found.append(int(entry))
    return found


def start_rebuild(index: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The installed command in a session of its own, so that every process it forks can be found."""
    return subprocess.Popen([str(SEARCH_INDEX), "rebuild", str(BBC), "--index", str(index), "-q"],
                            env={**os.environ, **env}, start_new_session=True, stderr=subprocess.DEVNULL)


def seconds_until_gone(run: subprocess.Popen[bytes]) -> float:
    """After the main process died: how long until no process of its session is left (killed after 30 s)."""
    died = time.monotonic()
    while (left := session_processes(run.pid)) and time.monotonic() - died < 30:
        time.sleep(0.02)
    seconds = time.monotonic() - died
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} process(es) of the killed run still alive after {seconds:.1f} s: {left}"
    return seconds


def test_a_killed_rebuild_leaves_no_process_and_the_next_run_proceeds(tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert subprocess.run([str(SEARCH_INDEX), "build", str(BBC / "tech"), "--index", str(index), "-q"]).returncode == 0
    serving = IndexStore(index).current_name()
    broadband = total(index, "broadband")
    measured = {}

    def killed(run: subprocess.Popen[bytes], moment: str) -> None:
        assert run.wait(timeout=600) == -signal.SIGKILL, f"the rebuild ended before {moment}"
        measured[moment] = seconds_until_gone(run)
        assert IndexStore(index).current_name() == serving, moment
        assert serving_count(index) == TECH_ARTICLES and total(index, "broadband") == broadband, moment
        done = subprocess.run([str(SEARCH_INDEX), "update", str(BBC / "tech"), "--index", str(index), "-q"],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"after a kill at {moment}: {done.stderr}"

    for point in KILL_POINTS:
        killed(start_rebuild(index, {KILL_ENV: point}), point)

    # A kill from outside, as `kill -9` does, once whoosh's sub-writers run beside the parsers.
    run = start_rebuild(index, {})
    while len(session_processes(run.pid)) < 1 + 2 * default_workers() and run.poll() is None:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    killed(run, "sub-writers running (kill -9)")

    print("\nseconds from SIGKILL of the main process to the last process of the run gone: "
          + ", ".join(f"{moment} {seconds:.2f}" for moment, seconds in measured.items()))
    assert max(measured.values()) < GONE_WITHIN, measured
    done = subprocess.run([str(SEARCH_INDEX), "rebuild", str(BBC), "--index", str(index), "-q"], timeout=600)
    assert done.returncode == 0 and serving_count(index) == BBC_ARTICLES
