"""Record-level bookkeeping: a hash per article, and which file owns each article id.

A JSONL file, a feed or a Reuters `.sgm` file holds many articles. The manifest keeps a hash of each
(`record_hash`), so an update that re-reads a changed file writes only the articles whose hash changed
and deletes only those that are gone: appending 20 records to a 12,000-record file writes 20.

A JSONL record is hashed by its line (number and bytes, `line_hash`), which the reader can compare
before parsing: an unchanged line is not parsed at all, the reader yields it as `Known`. Other formats
are parsed whole and each article is hashed by its content.

Ids: when several files yield the same id, the first file in corpus order keeps it and the others
report a duplicate (`Claims`), in a build and in an update alike, so an update gives the ids a full
build would.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from typing import Iterable, Mapping

from .models import Article

_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))  # not an AnalysedArticle's terms


def record_hash(article: Article) -> str:
    """BLAKE2b-128 of everything an article stores (text, metadata, path, line): equal hashes, equal articles."""
    values = [getattr(article, name) for name in _ARTICLE_FIELDS]
    return hashlib.blake2b(json.dumps(values).encode("ascii"), digest_size=16).hexdigest()


def line_hash(number: int, raw: bytes) -> str:
    """`<number>:<BLAKE2b-128 of the line>`: what a JSONL record's article is made of, within one file
    (its line number is stored with it, so a record that only moved to another line is written again)."""
    return f"{number}:{hashlib.blake2b(raw, digest_size=16).hexdigest()}"


def moved_only(before: str | None, after: str) -> bool:
    """Whether two line hashes are of the same bytes on different lines (a record above was added or removed)."""
    return before is not None and ":" in after and before != after and before.partition(":")[2] == after.partition(":")[2]


@dataclass(frozen=True)
class Known:
    """A record the serving generation holds exactly as it is now (its line is unchanged): not parsed again."""

    id: str
    hash: str
    path: str
    line: int | None = None


class Claims:
    """Which file owns each article id: the first file, in corpus order, that yields it.

    A build reads every file in order, so the first to claim an id keeps it. An update reads only some
    files, in corpus order too, and knows from the manifest every id each unread file yields (as owner
    or as duplicate) and where that file stands (`order`): so it decides each id as a full build would.
    `before` maps the ids of the serving generation to (file, record hash), to tell an unchanged
    article (nothing to write) from a changed one.
    """

    def __init__(self, order: Mapping[str, int] | None = None, unread: Mapping[str, Iterable[str]] | None = None,
                 before: Mapping[str, tuple[str, str | None]] | None = None) -> None:
        self._order = order or {}
        self._before = before or {}
        self._claimed: dict[str, str] = {}
        self._unread: dict[str, str] = {}  # id -> the first unread file yielding it
        for path, ids in (unread or {}).items():
            for article_id in ids:
                first = self._unread.get(article_id)
                if first is None or self._order[path] < self._order[first]:
                    self._unread[article_id] = path

    def first(self, article_id: str, path: str) -> str | None:
        """The file before `path` that yields this id (the article is then a duplicate), or None."""
        claimed = self._claimed.get(article_id)
        if claimed is not None:  # an earlier file of this run, or this one (an id its reader let through twice)
            return claimed
        unread = self._unread.get(article_id)
        if unread is not None and unread != path and self._order[unread] < self._order.get(path, len(self._order)):
            return unread
        return None

    def claim(self, article_id: str, path: str) -> None:
        self._claimed[article_id] = path

    def unchanged(self, article_id: str, path: str, digest: str) -> bool:
        """Whether the serving generation holds this very article (same file, same record hash)."""
        return self._before.get(article_id) == (path, digest)

    def owner(self, article_id: str) -> str | None:
        """The file that keeps the id, once the files that had to be read have been read."""
        claimed, unread = self._claimed.get(article_id), self._unread.get(article_id)
        if claimed is None or unread is None:
            return claimed or unread
        return claimed if self._order[claimed] < self._order[unread] else unread

    def moved(self, article_ids: Iterable[str]) -> bool:
        """Whether any of these ids now belongs to another file than before (so the file of an unread
        entry yielding them must be read again: its articles or its duplicate reports change)."""
        return any(self.owner(i) != self._before.get(i, (None,))[0] for i in article_ids)
