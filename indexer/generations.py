"""Index generations: each build writes a complete index into its own folder; a pointer file names
the one that serves. Switching is one atomic rename, so a reader sees the old or the new generation,
never a half-built one.

    INDEX_DIR/
      CURRENT              name of the serving generation (replaced atomically)
      gen-<time>-<pid>/    one complete index + meta.json + manifest.json
      LOCK                 held by the one run allowed at a time (indexer.lock)
      LAST_RUN.json        the report of the last update/rebuild/rollback

Pruning and readers: a generation is deleted only when it is neither serving nor among the `keep`
generations reached from the serving one through `meta["previous"]` (so with keep >= 2 the generation
that served until the last switch always survives until the next switch), and only by a run holding
the lock. A reader that read CURRENT just before a switch therefore still finds its generation; an
open index keeps working after its folder is deleted (POSIX keeps unlinked open files), and
`query.searcher.Searcher.refresh` re-reads CURRENT and retries if a generation vanished under it.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import ArticleSearchError, IndexDamaged, IndexMissing
from .faults import checkpoint

POINTER = "CURRENT"
META = "meta.json"
MANIFEST = "manifest.json"  # written by indexer.manifest; named here so readers need not import it
VECTORS, VECTOR_IDS = "vectors.npy", "vectors.json"  # written by indexer.vectors (semantic ranking)
PREFIX = "gen-"
LAST_RUN = "LAST_RUN.json"
DEFAULT_KEEP = 2  # generations kept: the serving one and the one before it (for rollback)
NOT_CLONED = frozenset({META, MANIFEST})


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


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never a mix (also after a power cut)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    checkpoint("atomic-write-tmp")
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    directory = os.open(path, os.O_RDONLY)
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
        # Names are never reused, even for builds within one second: a reader that cached a name must
        # not mistake a later generation for the one it opened (nanoseconds + pid + attempt).
        now = time.time_ns()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now / 1e9)) + f".{now % 1_000_000_000:09d}"
        for attempt in range(1000):
            path = self.root / f"{PREFIX}{stamp}-{os.getpid()}-{attempt}"
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
        raise OSError(f"cannot create a new generation folder in {self.root}")

    def write_meta(self, path: Path, meta: dict[str, Any]) -> None:
        write_atomic(path / META, json.dumps(meta, indent=2, sort_keys=True))

    def publish(self, path: Path) -> None:
        """Make a complete generation the serving one (one atomic rename)."""
        if not (path / META).is_file():
            raise IndexDamaged(f"refusing to publish {path}: it has no {META}")
        write_atomic(self.root / POINTER, path.name + "\n")
        checkpoint("published")

    def clone(self, source: Path) -> Path:
        """A new generation folder holding the index files of `source`, to be updated in place.

        Files are hard-linked (instant, no extra disk), else copied. This relies on the engine
        contract that index files are written once and never rewritten in place (whoosh writes new
        segment and TOC files and records deletions in the new TOC; Lucene-style engines do the same),
        so changing the clone can never change `source`.
        """
        target = self.new_generation()
        _link_tree(source, target, NOT_CLONED)
        return target

    def sync(self, path: Path) -> None:
        """Flush every file of a generation to disk before it may serve (survives a power cut)."""
        for item in path.iterdir():
            if item.is_file():
                fd = os.open(item, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        _fsync_dir(path)
        checkpoint("synced")

    def previous_of(self, generation: Generation) -> Generation | None:
        """The complete generation that served before `generation` (recorded when it was published)."""
        name = generation.meta.get("previous")
        if not name or not (self.root / name / META).is_file():
            return None
        try:
            return self.load(name)
        except IndexDamaged:
            return None

    def kept(self, keep: int) -> list[Generation]:
        """The serving generation and its predecessors, newest first, at most `keep` of them."""
        try:
            generation: Generation | None = self.current()
        except IndexMissing:
            return []
        chain: list[Generation] = []
        while generation is not None and len(chain) < max(keep, 1) and generation.name not in {g.name for g in chain}:
            chain.append(generation)
            generation = self.previous_of(generation)
        return chain

    def prune(self, keep: int, before_removing: Callable[[Generation], None] | None = None) -> list[str]:
        """Delete generations outside the kept chain (the caller holds the lock); their names.

        `before_removing` is told each complete generation first (to drop what an engine stored elsewhere).
        """
        kept = {g.name for g in self.kept(keep)}
        removed = []
        for path in sorted(self.root.glob(PREFIX + "*")):
            if path.is_dir() and path.name not in kept and path.name != self.current_name():
                if before_removing and (path / META).is_file():
                    try:
                        before_removing(self.load(path.name))
                    except IndexDamaged:
                        pass
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
                checkpoint("pruned")
        return removed

    def clean_leftovers(self) -> list[str]:
        """Remove what a killed run left: half-built generations (no meta.json) and temporary files."""
        removed = []
        if not self.root.is_dir():
            return removed
        for path in sorted(self.root.iterdir()):
            if path.name.startswith(PREFIX) and path.is_dir() and not (path / META).is_file() and path.name != self.current_name():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
            elif path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file():
                path.unlink(missing_ok=True)
        return removed

    def size(self, path: Path) -> int:
        """Bytes in a generation folder (hard-linked files shared with another generation included)."""
        return sum(item.stat().st_size for item in path.iterdir() if item.is_file())

    def write_last_run(self, record: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomic(self.root / LAST_RUN, json.dumps(record, indent=2, ensure_ascii=False))

    def last_run(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.root / LAST_RUN).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def rollback_target(self) -> Generation:
        """The generation to roll back to: the one that served before the current one."""
        current = self.current()
        previous = self.previous_of(current)
        if previous is None:
            raise ArticleSearchError(f"nothing to roll back to: {current.name} has no previous generation left in {self.root}")
        return previous

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


def _link_tree(source: Path, target: Path, skip: frozenset[str] | set[str] | tuple[str, ...] = ()) -> None:
    """Hard-link (else copy) the files of `source` into `target`, sub-folders too (tantivy keeps its
    index in one); `skip` names top-level files that belong to the generation, not to the engine."""
    for item in sorted(source.iterdir()):
        if item.name in skip or item.name.upper().endswith("LOCK"):
            continue
        if item.is_dir() and not item.is_symlink():
            (target / item.name).mkdir()
            _link_tree(item, target / item.name)
            continue
        if not item.is_file():
            continue
        try:
            os.link(item, target / item.name)
        except OSError:
            shutil.copyfile(item, target / item.name)
        checkpoint("clone-file")
