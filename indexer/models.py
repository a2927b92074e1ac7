"""Data classes passed between stages: readers -> engines -> reports.

The small records are NamedTuples: every `search` process imports this module, and a frozen dataclass
costs ~0.8 ms to create at import against ~0.1 ms (issue 14's cold start)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

#: The searchable text fields of an article: its sections in display order, then its authors' names (a
#: low-weight field, see `indexer.config.DEFAULT_WEIGHTS`: a reader typing a columnist's name finds her
#: articles, without the name outranking the articles about that person).
SECTIONS: tuple[str, ...] = ("headline", "bullets", "body", "captions", "authors")


@dataclass(frozen=True)
class Article:
    """One news article as read from a file or a JSONL record."""

    id: str
    headline: str
    bullets: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    captions: tuple[str, ...] = ()
    date: str | None = None
    source: str | None = None
    url: str | None = None
    categories: tuple[str, ...] = ()
    path: str = ""
    line: int | None = None
    authors: tuple[str, ...] = ()  # names as `indexer.bylines` makes them, in the source's order

    def section_text(self, section: str) -> tuple[str, ...]:
        """The paragraphs of one section (the headline as a one-item tuple)."""
        if section == "headline":
            return (self.headline,) if self.headline else ()
        return getattr(self, section)


class Skipped(NamedTuple):
    """A file or record that could not be read, and why."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        return report_line(self.path, self.line, self.reason)


class Notice(NamedTuple):
    """Something a reader understood only in part but indexed anyway (a date it could not read, fields of
    a feed it did not use): reported as a hint, not a skip."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return report_line(self.path, self.line, self.message)


def report_line(path: str, line: int | None, text: str) -> str:
    """`path[:line]: text` on one line, even for a file name holding a line break."""
    path = path.replace("\r", "\\r").replace("\n", "\\n")
    return f"{path}:{line}: {text}" if line is not None else f"{path}: {text}"


@dataclass(frozen=True)
class BuildReport:
    """What a build did: counts, skipped items with reasons, duration."""

    index_dir: str
    generation: str
    engine: str
    indexed: int
    skipped: tuple[Skipped, ...] = ()
    seconds: float = 0.0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    mode: str = "build"
    notes: tuple[str, ...] = ()  # what the run noticed: a killed previous run cleaned up, a fallback to a full build

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "index_dir": self.index_dir,
            "generation": self.generation,
            "engine": self.engine,
            "indexed": self.indexed,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [
                {"path": s.path, "line": s.line, "reason": s.reason} for s in self.skipped
            ],
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
        }

