"""Helper processes of a run (parser workers, whoosh's sub-writers) die with the process that forked them.

Why: cron, the OOM killer and `kill -9` kill only a run's main process. A forked helper waiting on a
queue would then sleep forever, holding what it inherited: the index LOCK (every later run exits 75)
and the files of the generation being built. On Linux each helper asks the kernel to SIGKILL it the
moment its parent goes (prctl PR_SET_PDEATHSIG); elsewhere a thread checks the parent every second.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_SECONDS = 1.0


def die_with_parent(parent: int) -> None:
    """Call first thing in a forked helper; `parent` is the pid of the process that forked it.

    The kernel's signal comes when the forking *thread* ends: helpers must be forked by the thread
    that waits for them (as the build does), not by a short-lived one.
    """
    if not _ask_kernel():
        threading.Thread(target=_watch, args=(parent,), daemon=True, name="die-with-parent").start()
    if os.getppid() != parent:  # the parent died before we asked
        os._exit(1)


def _ask_kernel() -> bool:
    """PR_SET_PDEATHSIG(SIGKILL) for this process; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)
