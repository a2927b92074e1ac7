"""Transparent reading of gzip-compressed article files (`story.html.gz`, `feed.jsonl.gz`), at bounded cost.

Web archives and feed dumps are usually gzipped. A gzip bomb (a few kB that inflate to gigabytes) must
cost bounded memory and time, so the decompressed stream stops with BadArticle once it passes
`inflated_limit`: 50 times the compressed size (text compresses 3-10 times, a bomb about 1,000 times),
and never less than the article size cap. Whole-file formats are further capped by `read_text_file`,
which never reads more than the cap plus one byte; line formats stream, record by record.
"""
from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from .errors import BadArticle

SUFFIX = ".gz"
#: A .gz file may inflate to this many times its own size (or to the article size cap, if that is more).
MAX_RATIO = 50


def is_gzipped(path: Path) -> bool:
    return path.suffix.lower() == SUFFIX


def inner_path(path: Path) -> Path:
    """The name the file has once decompressed (`a.jsonl.gz` -> `a.jsonl`), which decides its format."""
    return path.with_suffix("") if is_gzipped(path) else path


def inflated_limit(compressed_size: int, max_bytes: int) -> int:
    return max(compressed_size * MAX_RATIO, max_bytes)


class CappedGzip(gzip.GzipFile):
    """A GzipFile whose inflating stops at a limit and whose corrupt or truncated data is a BadArticle.

    The limit is checked where gzip inflates a chunk, below the buffer that lines are read from, so
    reading a file of a million short lines costs no Python call per line.
    """

    def __init__(self, fileobj: BinaryIO, limit: int) -> None:
        super().__init__(fileobj=fileobj, mode="rb")
        self._raw = fileobj
        inner = self._buffer.detach()  # type: ignore[has-type]  # (else closing the old buffer closes it)
        self._buffer = io.BufferedReader(_Capped(inner, limit))

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()  # GzipFile leaves a file object it was given open


class _Capped(io.RawIOBase):
    """gzip's decompressing reader, counted."""

    def __init__(self, inner: io.RawIOBase, limit: int) -> None:
        self._inner = inner
        self._limit = limit
        self._inflated = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            count = self._inner.readinto(buffer)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise BadArticle(f"not a valid gzip file: {exc}") from None
        self._inflated += count or 0
        if self._inflated > self._limit:
            raise BadArticle(f"gzip data inflates past {self._limit:,} bytes ({MAX_RATIO} times the file's size, "
                             f"or the article size cap if more): not read further")
        return count  # type: ignore[no-any-return]


def open_gzipped(raw: BinaryIO, max_bytes: int) -> CappedGzip:
    """The decompressed stream of an open .gz file (which the stream closes with itself)."""
    return CappedGzip(raw, inflated_limit(os.fstat(raw.fileno()).st_size, max_bytes))
