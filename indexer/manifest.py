"""The manifest of a generation: which corpus file gave which articles, so updates re-read only what changed.

Each generation folder holds `manifest.json`: for every article file, its size, mtime (ns), content
hash (BLAKE2b), the ids of the articles it gave with a hash of each (`indexer.records`), and what in it
was skipped. An update compares the corpus with it: a file whose size and mtime are unchanged is not
opened; one whose stat changed is hashed, and re-read only if its content changed; of a re-read file,
only the articles whose hash changed are written again.

Version 1 manifests (no article hashes) are still read: their files are re-indexed whole when they change.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from .generations import MANIFEST
from .models import Skipped
from .readers import CorpusFile

VERSION = 2
READABLE_VERSIONS = frozenset({1, VERSION})
UNKNOWN_MTIME = -1  # the file changed while it was read: re-check it next time


@dataclass(frozen=True)
class FileEntry:
    """One article file as it was indexed."""

    path: str
    root: str
    size: int
    mtime_ns: int
    digest: str
    ids: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    duplicates: tuple[str, ...] = ()  # ids skipped because another file already had them
    label: str = ""  # its corpus folder's label when the ids were made (see indexer.readers.folder_labels)
    hashes: tuple[str, ...] = ()  # one per id (indexer.records); none in a version 1 manifest

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root, "label": self.label, "size": self.size, "mtime_ns": self.mtime_ns, "digest": self.digest,
            "ids": list(self.ids), "hashes": list(self.hashes), "duplicates": list(self.duplicates),
            "skipped": [[s.path, s.reason, s.line] for s in self.skipped],
        }

    @classmethod
    def from_json(cls, path: str, data: Mapping[str, Any]) -> "FileEntry":
        ids, hashes = tuple(data.get("ids", ())), tuple(data.get("hashes", ()))
        return cls(
            path=path, root=data["root"], size=int(data["size"]), mtime_ns=int(data["mtime_ns"]),
            digest=str(data["digest"]), ids=ids, duplicates=tuple(data.get("duplicates", ())),
            skipped=tuple(Skipped(p, r, line) for p, r, line in data.get("skipped", ())), label=str(data.get("label", "")),
            hashes=hashes if len(hashes) == len(ids) else (),
        )

    def records(self) -> Iterator[tuple[str, str | None]]:
        """(id, hash) of each article; the hash is None in an entry of a version 1 manifest."""
        return zip(self.ids, self.hashes or (None,) * len(self.ids))


@dataclass(frozen=True)
class Manifest:
    """Every indexed file of a generation, by absolute path (the `path` stored with its articles)."""

    files: Mapping[str, FileEntry] = field(default_factory=dict)

    @property
    def article_count(self) -> int:
        return sum(len(e.ids) for e in self.files.values())

    def skipped(self) -> list[Skipped]:
        return [s for e in self.files.values() for s in e.skipped]

    def save(self, directory: Path) -> None:
        from .generations import write_atomic

        data = {"version": VERSION, "files": {p: e.to_json() for p, e in sorted(self.files.items())}}
        write_atomic(Path(directory) / MANIFEST, json.dumps(data, ensure_ascii=False, separators=(",", ":")))

    @classmethod
    def load(cls, directory: Path) -> "Manifest | None":
        """The manifest of a generation, or None if it has none (or an unreadable one): rebuild then."""
        try:
            data = json.loads((Path(directory) / MANIFEST).read_text(encoding="utf-8"))
            if data.get("version") not in READABLE_VERSIONS:
                return None
            return cls({p: FileEntry.from_json(p, e) for p, e in data["files"].items()})
        except (OSError, ValueError, KeyError, TypeError):
            return None


def file_digest(path: Path, size: int | None = None) -> str:
    """BLAKE2b-128 of a file's bytes (OSError if it cannot be read), of at most `size` + 1 of them when
    given (the size it was listed with): a file growing while it is hashed is not chased."""
    digest = hashlib.blake2b(digest_size=16)
    left = float("inf") if size is None else size + 1
    with open(path, "rb") as stream:
        while left > 0 and (chunk := stream.read(int(min(left, 1 << 20)))):
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def stat_after_read(file: CorpusFile) -> int | None:
    """The mtime to record for a file just read: None if it vanished, UNKNOWN_MTIME if it changed meanwhile."""
    try:
        stat = os.stat(file.path)
    except OSError:
        return None
    if not Path(file.path).is_file():
        return None
    if stat.st_size != file.size or stat.st_mtime_ns != file.mtime_ns:
        return UNKNOWN_MTIME
    return file.mtime_ns


@dataclass(frozen=True)
class Changes:
    """What an update must do: files to (re-)read, entries to keep as they are, entries whose file is gone."""

    read: tuple[CorpusFile, ...]
    keep: tuple[FileEntry, ...]
    gone: tuple[FileEntry, ...]


def compare(manifest: Manifest, files: Iterable[CorpusFile]) -> Changes:
    """Sort the corpus files into unchanged, changed/added, and removed relative to the manifest.

    Size + mtime equal: unchanged without opening the file. Otherwise the content hash decides, so a
    touched or copied-back file costs a read, not a re-index.
    """
    read: list[CorpusFile] = []
    keep: list[FileEntry] = []
    seen: set[str] = set()
    for file in files:
        key = file.key
        seen.add(key)
        entry = manifest.files.get(key)
        if entry is None or entry.root != str(file.root) or entry.label != file.label:  # its ids would differ
            read.append(file)
            continue
        if entry.size == file.size and entry.mtime_ns == file.mtime_ns:
            keep.append(entry)
            continue
        try:
            same = file_digest(file.path, file.size) == entry.digest
        except OSError:
            same = False  # re-read: that fails again, is reported, and its old articles go
        if same:
            keep.append(replace(entry, size=file.size, mtime_ns=file.mtime_ns))
        else:
            read.append(file)
    gone = tuple(e for p, e in manifest.files.items() if p not in seen)
    return Changes(tuple(read), tuple(keep), gone)


@dataclass(frozen=True)
class Counts:
    """Articles added, updated, removed and unchanged between two manifests."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


def count_changes(old: Manifest | None, new: Manifest) -> Counts:
    """Per article id: new, gone, changed (updated: its hash, or without one its file's), or untouched."""
    def owners(manifest: Manifest) -> dict[str, tuple[str, str]]:
        return {i: (e.path, h or e.digest) for e in manifest.files.values() for i, h in e.records()}

    before = owners(old) if old else {}
    after = owners(new)
    added = sum(1 for i in after if i not in before)
    removed = sum(1 for i in before if i not in after)
    unchanged = sum(1 for i, source in after.items() if before.get(i) == source)
    return Counts(added, len(after) - added - unchanged, removed, unchanged)
