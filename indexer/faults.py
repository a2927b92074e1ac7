"""Test hooks that kill or fail a run at a named point, so crash safety can be shown by tests.

Inert unless a test sets one of these environment variables (read at each checkpoint, so a forked
child can set them after the parent imported this module):

    ARTICLE_SEARCH_TEST_KILL_AT=<point>:<n>   SIGKILL this process the n-th time <point> is reached
    ARTICLE_SEARCH_TEST_FAIL_AT=<point>:<n>   raise OSError(ENOSPC) there instead ("disk full")

The points are the `checkpoint(...)` calls in build.py, update.py, generations.py and runs.py.
"""
from __future__ import annotations

import errno
import os
from collections import Counter

KILL_ENV = "ARTICLE_SEARCH_TEST_KILL_AT"
FAIL_ENV = "ARTICLE_SEARCH_TEST_FAIL_AT"

_reached: Counter[str] = Counter()


def _matches(spec: str | None, point: str) -> bool:
    if not spec:
        return False
    name, _, count = spec.partition(":")
    return name == point and _reached[point] == int(count or 1)


def checkpoint(point: str) -> None:
    """Mark that a run reached `point`; a test may have asked to die or fail here."""
    kill, fail = os.environ.get(KILL_ENV), os.environ.get(FAIL_ENV)
    if not kill and not fail:
        return
    _reached[point] += 1
    if _matches(kill, point):
        import signal  # only tests ask to be killed: every run reaches a checkpoint

        os.kill(os.getpid(), signal.SIGKILL)
    if _matches(fail, point):
        raise OSError(errno.ENOSPC, f"No space left on device (test fault at {point})")


def reset() -> None:
    """Forget how often each point was reached (between in-process test runs)."""
    _reached.clear()
