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
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, NamedTuple

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


class Analysis(NamedTuple):
    """What turned text into index terms (indexer.analysis): an index is searched and updated only by the same."""

    version: int
    stemmer: str
    stop_words: str  # digest of the stop-word list

    @classmethod
    def current(cls) -> "Analysis":
        from . import analysis

        try:  # Python's own BLAKE2, without hashlib's OpenSSL bindings (2-3 ms of every search's start)
            from _blake2 import blake2b
        except ImportError:
            from hashlib import blake2b
        digest = blake2b(" ".join(sorted(analysis.STOP_WORDS)).encode(), digest_size=8).hexdigest()
        return cls(analysis.VERSION, analysis.STEMMER, digest)

    def differences(self, other: "Analysis") -> str:
        """What differs, for a message: "stemmer snowball english, PyStemmer 2.2 (now ...)"."""
        return ", ".join(f"{name} {getattr(self, name)} (now {getattr(other, name)})"
                         for name in ("version", "stemmer", "stop_words") if getattr(self, name) != getattr(other, name))


@dataclass(frozen=True)
class GenerationMeta:
    """meta.json of a generation, checked when read: a malformed one is damage, not a traceback.

    `service` is what a service engine recorded (indexer.engines.describe: cluster, concrete index),
    kept as top-level keys of meta.json. `analysis` is None for generations written before it was recorded.
    """

    engine: str
    built_at: float | None = None
    articles: int | None = None
    corpus_dirs: tuple[str, ...] = ()
    previous: str | None = None
    mode: str | None = None
    service: Mapping[str, Any] = field(default_factory=dict)
    analysis: Analysis | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {**self.service, "engine": self.engine, "built_at": self.built_at, "articles": self.articles,
                                "corpus_dirs": list(self.corpus_dirs), "previous": self.previous, "mode": self.mode}
        if self.analysis is not None:
            data["analysis"] = {"version": self.analysis.version, "stemmer": self.analysis.stemmer,
                                "stop_words": self.analysis.stop_words}
        return data

    @classmethod
    def from_json(cls, data: Any) -> "GenerationMeta":
        """Parse and check meta.json's content; ValueError says what is wrong."""
        if not isinstance(data, dict):
            raise ValueError(f"it holds a JSON {type(data).__name__}, not an object")
        previous = _optional(data, "previous", str)
        if previous is not None and (not previous.startswith(PREFIX) or "/" in previous):
            raise ValueError(f"'previous' is {previous!r}, not a generation name")
        built_at = _optional(data, "built_at", (int, float))
        if built_at is not None and not math.isfinite(built_at):
            raise ValueError(f"'built_at' is {built_at!r}, not a time")
        articles = _optional(data, "articles", int)
        if articles is not None and articles < 0:
            raise ValueError(f"'articles' is {articles}")
        dirs = _optional(data, "corpus_dirs", list) or []
        if not all(isinstance(d, str) for d in dirs):
            raise ValueError("'corpus_dirs' must be a list of folder names")
        return cls(engine=_optional(data, "engine", str) or "whoosh", built_at=built_at, articles=articles,
                   corpus_dirs=tuple(dirs), previous=previous, mode=_optional(data, "mode", str),
                   service={k: v for k, v in data.items() if k not in _META_KEYS}, analysis=_analysis(data.get("analysis")))


_META_KEYS = frozenset({"engine", "built_at", "articles", "corpus_dirs", "previous", "mode", "analysis"})


def _optional(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """data[key] if it is of `kind` (never a bool for numbers), None if absent; ValueError otherwise."""
    value = data.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise ValueError(f"{key!r} is {json.dumps(value)[:60]}, not {_KIND_NAMES.get(kind, 'valid')}")
    return value


_KIND_NAMES: dict[Any, str] = {str: "a text", int: "a whole number", (int, float): "a number", list: "a list", dict: "an object"}


def _analysis(value: Any) -> Analysis | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("'analysis' is not an object")
    version, stemmer, stop_words = (_optional(value, "version", int), _optional(value, "stemmer", str),
                                    _optional(value, "stop_words", str))
    if version is None or stemmer is None or stop_words is None:
        raise ValueError("'analysis' lacks its version, stemmer or stop words")
    return Analysis(version, stemmer, stop_words)


def recorded_dirs(data: Any) -> tuple[str, ...]:
    """The corpus folders a meta.json records, read leniently (also from one that is otherwise malformed)."""
    dirs = data.get("corpus_dirs") if isinstance(data, dict) else None
    return tuple(dirs) if isinstance(dirs, list) and all(isinstance(d, str) for d in dirs) else ()


class Generation(NamedTuple):
    """One complete index folder and its metadata."""

    path: Path
    meta: GenerationMeta

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def engine(self) -> str:
        return self.meta.engine

    def require_analysis(self) -> None:
        """Refuse a generation built by another analysis (IndexDamaged): its terms would not match the
        query's, so searches and updates would quietly miss. Older generations that did not record
        their analysis are taken as built by this one."""
        analysis, current = self.meta.analysis, Analysis.current()
        if analysis is not None and analysis != current:
            command = IndexStore(self.path.parent).rebuild_command(self.meta.corpus_dirs)
            raise IndexDamaged(f"{self.path} was built by another text analysis ({analysis.differences(current)}), "
                               f"rebuild needed; rebuild with: {command}")


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
        """Generation `name` with its checked metadata; IndexDamaged (with the rebuild command) if it is
        missing, unreadable or malformed."""
        path = self.root / name
        try:
            data = json.loads((path / META).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexDamaged(f"index generation {path} is missing; rebuild with: {self.rebuild_command()}") from None
        except (OSError, ValueError) as exc:
            raise IndexDamaged(f"cannot read {path / META}: {exc}; rebuild with: {self.rebuild_command()}") from None
        try:
            return Generation(path, GenerationMeta.from_json(data))
        except ValueError as exc:
            raise IndexDamaged(f"the index metadata {path / META} is malformed: {exc}; "
                               f"rebuild with: {self.rebuild_command(recorded_dirs(data))}") from None

    def rebuild_command(self, dirs: Iterable[str] = ()) -> str:
        """The command that rebuilds this index from the folders it was built from: `dirs`, else those the
        newest generation records, never the configured default (following the advice must not replace
        an archive with the bundled corpus). With none recorded, the command says CORPUS_DIR."""
        import shlex  # only messages need it

        dirs = tuple(dirs) or self._newest_recorded_dirs()
        return " ".join(["search-index rebuild", *(map(shlex.quote, dirs) if dirs else ["CORPUS_DIR"]),
                         "--index", shlex.quote(str(self.root))])

    def _newest_recorded_dirs(self) -> tuple[str, ...]:
        for path in sorted(self.root.glob(PREFIX + "*"), reverse=True):  # generation names sort by time
            try:
                dirs = recorded_dirs(json.loads((path / META).read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
            if dirs:
                return dirs
        return ()

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

    def write_meta(self, path: Path, meta: GenerationMeta) -> None:
        write_atomic(path / META, json.dumps(meta.to_json(), indent=2, sort_keys=True))

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
        """Flush every file of a generation (sub-folders too: tantivy's) to disk before it may serve
        (survives a power cut)."""
        for folder, _, names in os.walk(path):
            for name in names:
                fd = os.open(os.path.join(folder, name), os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            _fsync_dir(Path(folder))
        checkpoint("synced")

    def previous_of(self, generation: Generation) -> Generation | None:
        """The complete generation that served before `generation` (recorded when it was published)."""
        name = generation.meta.previous
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
                _rmtree(path)
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
                _rmtree(path)
                removed.append(path.name)
            elif path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file():
                path.unlink(missing_ok=True)
        return removed

    def size(self, path: Path) -> int:
        """Bytes in a generation folder and its sub-folders (hard-linked files shared with another
        generation included); a file pruned meanwhile by a run counts nothing."""
        total = 0
        for folder, _, names in os.walk(path):
            for name in names:
                try:
                    total += os.lstat(os.path.join(folder, name)).st_size
                except FileNotFoundError:
                    continue
        return total

    def write_last_run(self, record: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomic(self.root / LAST_RUN, json.dumps(record, indent=2, ensure_ascii=False))

    def last_run(self) -> dict[str, Any] | None:
        """The report of the last run, None if none was recorded; IndexDamaged if the record is malformed."""
        path = self.root / LAST_RUN
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            _check_fields(data, _LAST_RUN_FIELDS, "")
            report = data.get("report") or {}
            _check_fields(report, _REPORT_FIELDS, "report.")
            for item in report.get("skipped", []):
                _check_fields(item, _SKIPPED_FIELDS, "report.skipped[].")
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise IndexDamaged(f"the record of the last run {path} is malformed ({exc}); "
                               f"the next search-index update or rebuild replaces it") from None
        return data

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
        return sorted(found, key=lambda g: (g.meta.built_at or 0, g.name))

    def discard(self, path: Path) -> None:
        """Remove a generation folder that is not serving (a failed or pruned build)."""
        if path.name == self.current_name():
            raise ValueError(f"refusing to remove the serving generation {path}")
        _rmtree(path)


_NUMBER = (int, float)
_LAST_RUN_FIELDS: dict[str, Any] = {"mode": str, "outcome": str, "started_at": _NUMBER, "finished_at": _NUMBER,
                                    "error": str, "report": dict}
_REPORT_FIELDS: dict[str, Any] = {"indexed": int, "added": int, "updated": int, "removed": int, "unchanged": int,
                                  "seconds": _NUMBER, "skipped": list}
_SKIPPED_FIELDS: dict[str, Any] = {"path": str, "reason": str, "line": int}


def _rmtree(path: Path) -> None:
    """shutil.rmtree, ignoring errors; imported here because the query path never removes anything
    and shutil costs every `search` the import of bz2 and lzma."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _check_fields(data: Any, kinds: Mapping[str, Any], where: str) -> None:
    """ValueError unless `data` is an object whose listed fields, where present, have their kind."""
    if not isinstance(data, dict):
        raise ValueError(f"{where.rstrip('.[]') or 'it'} is not a JSON object")
    for key, kind in kinds.items():
        try:
            _optional(data, key, kind)
        except ValueError as exc:
            raise ValueError(f"{where}{exc}") from None


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
            import shutil  # not at the top: shutil imports bz2 and lzma, which `search` never needs

            shutil.copyfile(item, target / item.name)
        checkpoint("clone-file")
