"""The frame of every run that changes an index folder: lock, clean up after a killed run, record the outcome.

Builds, updates and rollbacks all go through `locked_run`, so two of them never overlap, a run
killed half-way is noticed and tidied by the next one, and `search-index status` can show the last
run's report (LAST_RUN.json) whatever its outcome.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

from .config import Config, load_config
from .engines import get_engine
from .errors import ArticleSearchError, BuildFailed
from .faults import checkpoint
from .generations import IndexStore
from .lock import IndexLock
from .models import BuildReport

Work = Callable[[IndexStore, list[str]], BuildReport]


def locked_run(index_dir: Path, mode: str, wait: float | None, work: Work) -> BuildReport:
    """Run `work(store, notes)` holding the index lock; LockHeld at once (or after `wait` s) if taken.

    `notes` collects what the user should hear about (cleanup after a killed run, fallbacks).
    Any failure that is not already a project error becomes BuildFailed: the previous index serves on.
    """
    store = IndexStore(index_dir)
    lock = IndexLock(store.root, mode)
    lock.acquire(wait)
    started = time.time()
    notes: list[str] = []
    try:
        checkpoint("lock-acquired")
        if lock.stale:
            notes.append(f"the previous run ({lock.stale.describe()}) did not finish; cleaned up after it")
        leftovers = store.clean_leftovers()
        if leftovers:
            notes.append(f"removed {len(leftovers)} unfinished generation(s): {', '.join(leftovers)}")
        try:
            report = work(store, notes)
        except ArticleSearchError as exc:
            _record(store, mode, started, "failed", error=str(exc))
            raise
        except Exception as exc:
            message = f"{mode} failed, previous index still serving: {type(exc).__name__}: {exc}"
            _record(store, mode, started, "failed", error=message)
            raise BuildFailed(message) from exc
        _record(store, mode, started, "skipped" if report.skipped else "ok", report=report.to_dict())
        checkpoint("last-run-written")
        return report
    finally:
        lock.release()


def _record(store: IndexStore, mode: str, started: float, outcome: str, **details: Any) -> None:
    """Write LAST_RUN.json; a failure to write it must not hide the run's own outcome."""
    record = {"mode": mode, "outcome": outcome, "pid": os.getpid(), "started_at": started, "finished_at": time.time(), **details}
    try:
        store.write_last_run(record)
    except OSError:
        pass


def rollback_index(index_dir: Path, wait: float | None = None, config: Config | None = None) -> BuildReport:
    """Serve the generation that served before the current one again (one atomic switch, under the lock).

    A service engine's pointer (OpenSearch alias) moves first. After an in-place update of a service
    engine both generations share one index, so rollback then restores the file records, not the articles.
    """
    def work(store: IndexStore, notes: list[str]) -> BuildReport:
        started = time.monotonic()
        current = store.current()
        target = store.rollback_target()
        target.require_analysis()  # it could not be searched
        get_engine(target.engine, config or load_config()).publish(target.path)
        store.publish(target.path)
        notes.append(f"switched from {current.name} back to {target.name}")
        return BuildReport(index_dir=str(store.root), generation=target.name, engine=target.engine,
                           indexed=target.meta.articles or 0, seconds=time.monotonic() - started,
                           mode="rollback", notes=tuple(notes))

    IndexStore(Path(index_dir)).rollback_target()  # nothing to roll back to: say so without recording a run
    return locked_run(Path(index_dir), "rollback", wait, work)
