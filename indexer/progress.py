"""A progress bar on stderr for builds, shared by both command-line tools."""
from __future__ import annotations

import sys
from typing import Any

import click


class ProgressBar:
    """`indexer.build.Progress` drawn with click's progress bar (bytes of article files read)."""

    def __init__(self, label: str, enabled: bool = True) -> None:
        self.label = label
        self.enabled = enabled
        self._bar: Any = None

    def start(self, total: int) -> None:
        if self.enabled:
            self._bar = click.progressbar(length=max(total, 1), label=self.label, file=sys.stderr, show_percent=True, show_eta=True)
            self._bar.__enter__()

    def advance(self, amount: int) -> None:
        if self._bar is not None:
            self._bar.update(amount)

    def committing(self) -> None:
        """The articles are read: say that the engine is writing its files now."""
        if self._bar is not None:
            self.finish()
            click.echo(f"{self.label}: writing the index files ...", err=True)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
