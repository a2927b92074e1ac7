"""Index generations: each build writes a complete index into its own folder; a pointer file names
the one that serves. Switching is one atomic rename, so a reader sees the old or the new generation,
never a half-built one.

    INDEX_DIR/
      CURRENT              name of the serving generation (replaced atomically)
      gen-<time>-<pid>/    one complete index + meta.json
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import IndexDamaged, IndexMissing

POINTER = "CURRENT"
META = "meta.json"
PREFIX = "gen-"


@dataclass(frozen=True)
class Generation:
    """One complete index folder and its metadata."""

    path: Path
    meta: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def engine(self) -> str:
        return str(self.meta.get("engine", "whoosh"))


def _write_atomic(path: Path, text: str) -> None:
    """Write a small file so that readers see the old or the new content, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class IndexStore:
    """The generations of one index folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def exists(self) -> bool:
        return (self.root / POINTER).is_file()

    def current_name(self) -> str | None:
        try:
            return (self.root / POINTER).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexDamaged(f"cannot read {self.root / POINTER}: {exc.strerror}") from None

    def current(self) -> Generation:
        """The serving generation; IndexMissing if there is none."""
        name = self.current_name()
        if name is None:
            raise IndexMissing(f"no index at {self.root}; build one with: search-index build CORPUS_DIR --index {self.root}")
        return self.load(name)

    def load(self, name: str) -> Generation:
        path = self.root / name
        try:
            meta = json.loads((path / META).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexDamaged(f"index generation {path} is missing; rebuild with: search-index rebuild --index {self.root}") from None
        except (OSError, ValueError) as exc:
            raise IndexDamaged(f"cannot read {path / META}: {exc}; rebuild with: search-index rebuild --index {self.root}") from None
        return Generation(path, meta)

    def new_generation(self) -> Path:
        """A fresh, empty folder for a generation being built (not serving until published)."""
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        for attempt in range(1000):
            path = self.root / f"{PREFIX}{stamp}-{os.getpid()}-{attempt}"
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
        raise OSError(f"cannot create a new generation folder in {self.root}")

    def write_meta(self, path: Path, meta: dict[str, Any]) -> None:
        _write_atomic(path / META, json.dumps(meta, indent=2, sort_keys=True))

    def publish(self, path: Path) -> None:
        """Make a complete generation the serving one (one atomic rename)."""
        if not (path / META).is_file():
            raise IndexDamaged(f"refusing to publish {path}: it has no {META}")
        _write_atomic(self.root / POINTER, path.name + "\n")

    def generations(self) -> list[Generation]:
        """Complete generations, oldest first."""
        found = []
        for path in sorted(self.root.glob(PREFIX + "*")):
            if (path / META).is_file():
                try:
                    found.append(self.load(path.name))
                except IndexDamaged:
                    continue
        return sorted(found, key=lambda g: (g.meta.get("built_at", 0), g.name))

    def discard(self, path: Path) -> None:
        """Remove a generation folder that is not serving (a failed or pruned build)."""
        if path.name == self.current_name():
            raise ValueError(f"refusing to remove the serving generation {path}")
        shutil.rmtree(path, ignore_errors=True)
