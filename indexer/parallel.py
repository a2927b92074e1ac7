"""Parsing and analysis in worker processes, in corpus order, with a bounded queue.

Reading, cleaning and analysing text is pure Python and holds the GIL; engines then only add
prepared documents. Files are grouped into batches of about `BATCH_BYTES`; at most a few batches
per worker are in flight, so a slow engine never makes parsed articles pile up in memory.
Small corpora are read in-process: starting workers costs more than it saves. Workers are forked
(a spawned worker re-imports the caller's main module, which breaks scripts without a main guard);
where fork is not available, reading stays in-process.
"""
from __future__ import annotations

import os
import sys
from collections import deque
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, TypeVar

from .analysis import section_terms
from .children import die_with_parent
from .models import Article
from .readers import CorpusFile, ReadItem, read_file

if TYPE_CHECKING:
    from concurrent.futures import Future

BATCH_BYTES = 2 * 1024 * 1024
PARALLEL_MIN_BYTES = 4 * 1024 * 1024  # below this, one process is faster
IN_FLIGHT_PER_WORKER = 3
# Libraries whose threads may hold locks when we fork (the semantic model's runtime): a process
# that has loaded one (a Searcher that ranked by meaning, then builds) reads in-process instead.
THREADED_LIBRARIES = frozenset({"onnxruntime", "tokenizers"})
T = TypeVar("T")
Reader = Callable[[CorpusFile, int], Iterable[ReadItem]]


def default_workers() -> int:
    """Worker processes for parsing: the CPUs this process may use, at most 8."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


@dataclass(frozen=True)
class AnalysedArticle(Article):
    """An article with its sections already analysed (done in parser processes); defined here, not
    beside the analyzer, so that a search does not create this dataclass it never uses."""

    terms: Mapping[str, str] | None = field(default=None, compare=False, repr=False)


def analysed(article: Article) -> AnalysedArticle:
    """The article with its sections analysed, ready for any engine."""
    values = {f.name: getattr(article, f.name) for f in fields(Article)}
    return AnalysedArticle(**values, terms=section_terms(article))


def _read_one(file: CorpusFile, max_bytes: int, before: Callable[[CorpusFile], T] | None,
              analyse: bool, reader: Reader = read_file) -> tuple[T | OSError | None, list[ReadItem]]:
    """`before(file)` (e.g. a digest, taken before the read as a sequential build would), then the items."""
    result: T | OSError | None = None
    if before is not None:
        try:
            result = before(file)
        except OSError as exc:
            return exc, []
    return result, [analysed(i) if analyse and isinstance(i, Article) else i for i in reader(file, max_bytes)]


def _read_batch(batch: list[CorpusFile], max_bytes: int, before: Callable[[CorpusFile], T] | None,
                reader: Reader) -> list[tuple[T | OSError | None, list[ReadItem]]]:
    """Worker: each file of a batch, its articles already analysed."""
    return [_read_one(file, max_bytes, before, True, reader) for file in batch]


def _batches(files: Iterable[CorpusFile]) -> Iterator[list[CorpusFile]]:
    batch: list[CorpusFile] = []
    size = 0
    for file in files:
        batch.append(file)
        size += file.size
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def read_files(files: list[CorpusFile], max_bytes: int, workers: int | None = None,
               before: Callable[[CorpusFile], T] | None = None,
               reader: Reader = read_file) -> Iterator[tuple[CorpusFile, T | OSError | None, list[ReadItem]]]:
    """(file, what `before` returned or raised as OSError, its items) for every file in the given order,
    parsed in parallel when it pays. `before(file)` runs just before the file is read; `before` and
    `reader` must be module-level functions (workers get them pickled)."""
    from concurrent.futures import ProcessPoolExecutor  # imported here: `search` loads this module too
    from multiprocessing import get_all_start_methods, get_context

    workers = default_workers() if workers is None else workers
    batches = list(_batches(files))  # one batch (one big feed dump) gains nothing: the caller would wait for it
    if (workers <= 1 or len(batches) < 2 or sum(f.size for f in files) < PARALLEL_MIN_BYTES
            or "fork" not in get_all_start_methods() or THREADED_LIBRARIES.intersection(sys.modules)):
        for file in files:
            yield (file, *_read_one(file, max_bytes, before, False, reader))
        return
    pool = ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=die_with_parent, initargs=(os.getpid(),))
    try:
        pending: deque[tuple[list[CorpusFile], Future[Any]]] = deque()
        for batch in batches:
            pending.append((batch, pool.submit(_read_batch, batch, max_bytes, before, reader)))
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                yield from _finish(pending.popleft())
        while pending:
            yield from _finish(pending.popleft())
    finally:  # also when the consumer stops early: drop queued batches, do not wait for them
        pool.shutdown(wait=True, cancel_futures=True)


def _finish(item: tuple[list[CorpusFile], Future[Any]]) -> Iterator[tuple[CorpusFile, Any, list[ReadItem]]]:
    batch, future = item
    for file, (result, items) in zip(batch, future.result()):
        yield file, result, items
