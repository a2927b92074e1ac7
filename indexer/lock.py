"""One run at a time per index folder: an exclusive `flock` on INDEX_DIR/LOCK.

Why flock rather than a PID file alone: the kernel drops the lock the moment its holder dies, even
by SIGKILL, so a killed run can never block the next one. The file also records who holds it (PID,
mode, start time); a record left behind by a process that is gone tells the next run that the
previous one was killed, so it reports that and cleans up its leftovers. The file is never deleted
(deleting a lock file lets two processes lock two different inodes).
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BuildFailed, LockHeld

LOCK_FILE = "LOCK"
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held, if it died) the lock."""

    pid: int
    mode: str
    started_at: float
    host: str

    @property
    def alive(self) -> bool:
        """True if the process still runs (only knowable on the same host)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.started_at))
        return f"{self.mode} by pid {self.pid} on {self.host}, started {when}"


def read_holder(index_dir: Path) -> Holder | None:
    """The record in the lock file: a running holder, or one that died; None if cleanly released."""
    try:
        data: dict[str, Any] = json.loads((Path(index_dir) / LOCK_FILE).read_text(encoding="utf-8") or "null") or {}
        return Holder(int(data["pid"]), str(data["mode"]), float(data["started_at"]), str(data["host"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


_held: "weakref.WeakSet[IndexLock]" = weakref.WeakSet()


def _forget_in_child() -> None:
    """In a forked child (a parser worker, a whoosh sub-writer): close the inherited lock descriptor.

    flock belongs to the open file, shared by every copy of its descriptor: a child keeping one would
    keep the index locked after the run died. Closing the child's copy leaves the parent's lock held.
    """
    for lock in list(_held):
        if lock._fd is not None:
            try:
                os.close(lock._fd)
            except OSError:
                pass
            lock._fd = None


os.register_at_fork(after_in_child=_forget_in_child)


class IndexLock:
    """Exclusive lock of one index folder, held for a whole update, rebuild or rollback."""

    def __init__(self, index_dir: Path, mode: str) -> None:
        self.index_dir = Path(index_dir)
        self.mode = mode
        self._fd: int | None = None
        #: set on acquire when the previous holder died without releasing (a killed run)
        self.stale: Holder | None = None

    def acquire(self, wait: float | None = None) -> None:
        """Take the lock; raise LockHeld at once (or after `wait` seconds) if another run has it."""
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.index_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a read-only or unwritable index folder: nothing was started
            raise BuildFailed(f"cannot write to the index folder {self.index_dir}: {exc.strerror or exc}") from None
        deadline = time.monotonic() + (wait or 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    holder = read_holder(self.index_dir)
                    who = holder.describe() if holder else "another process"
                    waited = f" after waiting {wait:g} s" if wait else ""
                    raise LockHeld(f"another run holds the index lock{waited} ({who}); "
                                   f"try again later or pass --wait SECONDS") from None
                time.sleep(POLL_SECONDS)
        self._fd = fd
        _held.add(self)
        previous = read_holder(self.index_dir)
        self.stale = previous if previous and not previous.alive else None
        record = {"pid": os.getpid(), "mode": self.mode, "started_at": time.time(), "host": socket.gethostname()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)

    def release(self) -> None:
        """Clear the holder record and unlock (a killed run skips this; the kernel unlocks anyway)."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "IndexLock":
        if self._fd is None:
            self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
