"""Full builds: read a corpus, write a new generation, check it, switch to it atomically.

The pieces shared with incremental updates (`indexer.update`) live here too: reading files into a
writer while recording the manifest, and finishing a generation (check, manifest, meta, fsync,
publish, prune).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Mapping, Protocol

from .config import Config, default_corpus_dirs, load_config
from .engines import Engine, EngineWriter, get_engine
from .errors import ArticleSearchError, BuildFailed, CorpusMissing, IndexDamaged
from .faults import checkpoint
from .generations import DEFAULT_KEEP, Analysis, Generation, GenerationMeta, IndexStore
from .manifest import UNKNOWN_MTIME, FileEntry, Manifest, count_changes, file_digest, stat_after_read
from .models import Article, BuildReport, Notice, Skipped
from .parallel import read_files
from .readers import LINE_RECORDS, CorpusFile, find_files, format_of, line_hashes, read_file, size_problem
from .records import Claims, Known, record_hash
from .runs import locked_run
from .vectors import with_vectors



class Progress(Protocol):
    """Told the total amount of work (bytes of article files), then each step done, then that the
    engine commits (a large commit takes a while: a bar resting at 100% looks hung)."""

    def start(self, total: int) -> None: ...
    def advance(self, amount: int) -> None: ...
    def committing(self) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

    def committing(self) -> None:
        pass


def duplicate(article: Article | Known, first_path: str) -> Skipped:
    return Skipped(article.path, f"duplicate id {article.id!r} (first read from {first_path})", article.line)


@dataclass
class Batch:
    """What `index_files` wrote: manifest entries, problems of files that could not be read, a probe article."""

    entries: dict[str, FileEntry]
    problems: list[Skipped]
    probe: Article | None = None
    notices: list[Notice] = field(default_factory=list)  # read anyway, worth a note (an unreadable date)

    def extend(self, other: "Batch") -> None:
        self.entries.update(other.entries)
        self.problems.extend(other.problems)
        self.probe = self.probe or other.probe
        self.notices.extend(other.notices)


@dataclass(frozen=True)
class Fingerprint:
    """A file's digest taken just before it is read, and the hash of each of its lines for formats whose
    records are lines (`indexer.readers.LINE_RECORDS`)."""

    digest: str
    lines: Mapping[int, str]


def index_files(writer: EngineWriter, files: Iterable[CorpusFile], config: Config, progress: Progress,
                claims: Claims) -> Batch:
    """Add the articles of `files` to `writer` and describe each file for the manifest.

    `claims` decides which file keeps an id several files yield (the first in corpus order; the others
    report a duplicate) and which articles the index already holds unchanged (not written again: an
    update). A file that vanishes or cannot be read is reported and skipped; it gets no manifest entry,
    so the next update tries it again.
    """
    batch = Batch({}, [])
    readable = []
    for file in files:  # a file too big to read is skipped before it is hashed (a 100 GB sparse file: at once)
        if (reason := size_problem(file, config.max_article_bytes)) is not None:
            batch.problems.append(Skipped(file.key, reason))
            progress.advance(file.size)
        else:
            readable.append(file)
    # each file is digested, then read, in a parser process when the corpus is large (indexer.parallel)
    before = partial(start_file, max_bytes=config.max_article_bytes)
    for file, fingerprint, items in read_files(readable, config.max_article_bytes, before=before, reader=read_file):
        key = file.key
        if isinstance(fingerprint, OSError):
            batch.problems.append(Skipped(key, f"cannot read: {fingerprint.strerror or fingerprint}"))
            progress.advance(file.size)
            continue
        assert isinstance(fingerprint, Fingerprint)
        mtime = stat_after_read(file)
        lines = fingerprint.lines if mtime == file.mtime_ns else {}  # changed while read: its lines may differ
        ids: list[str] = []
        hashes: list[str] = []
        duplicates: list[str] = []
        problems: list[Skipped] = []
        for item in items:
            if isinstance(item, Skipped):
                problems.append(item)
            elif isinstance(item, Notice):
                batch.notices.append(item)
            elif (first := claims.first(item.id, key)) is not None:
                problems.append(duplicate(item, first))
                duplicates.append(item.id)
            else:
                digest = item.hash if isinstance(item, Known) else lines.get(item.line or 0) or record_hash(item)
                if isinstance(item, Article) and not claims.unchanged(item.id, key, digest):
                    writer.add(item)
                    if batch.probe is None and item.headline:
                        batch.probe = item
                claims.claim(item.id, key)
                ids.append(item.id)
                hashes.append(digest)
        if mtime is None and not ids:
            batch.problems.extend(problems or [Skipped(key, "disappeared while being read")])
        else:
            batch.entries[key] = FileEntry(key, str(file.root), file.size, UNKNOWN_MTIME if mtime is None else mtime,
                                           fingerprint.digest, tuple(ids), tuple(problems), tuple(duplicates), file.label,
                                           tuple(hashes))
        progress.advance(file.size)
        checkpoint("file-indexed")
    return batch


def start_file(file: CorpusFile, max_bytes: int) -> Fingerprint:
    """Run just before a file is read (in a parser process for large corpora): checkpoint, digest, line hashes."""
    checkpoint("file-read")
    digest = file_digest(file.path, file.size)
    lines: Mapping[int, str] = {}
    if format_of(file.path) in LINE_RECORDS:
        try:
            lines = line_hashes(file, max_bytes)
        except Exception:  # noqa: BLE001 -- unreadable lines: the reader reports why; the file is hashed per article
            lines = {}
    return Fingerprint(digest, lines)


def corpus_roots(config: Config, explicit: bool, store: IndexStore) -> tuple[Path, ...]:
    """The folders to index: given ones, else configured ones, else those the serving index was built from.

    Falling back to the serving generation's folders makes a bare `search-index update` update the
    index from where it came, instead of from the bundled corpus (which would remove everything else).
    """
    if explicit or config.corpus_dirs != default_corpus_dirs({}):
        return config.corpus_dirs
    try:
        recorded = store.current().meta.corpus_dirs
    except ArticleSearchError:
        recorded = ()
    return tuple(Path(p) for p in recorded) or config.corpus_dirs


def require_roots(roots: Iterable[Path]) -> None:
    """Refuse a missing corpus folder: indexing it would silently drop all of its articles."""
    for root in roots:
        if not Path(root).exists():
            raise CorpusMissing(f"corpus folder {root} does not exist; nothing was changed")


def no_article_files(roots: Iterable[Path], serving: int) -> CorpusMissing:
    """The refusal of folders that hold no article file at all (an unmounted share, a wrong path):
    indexing them would empty the index; `serving` articles would be lost."""
    loss = f"refusing to remove all {serving:,} articles" if serving else "refusing to build an empty index"
    return CorpusMissing(f"no article files under {', '.join(map(str, roots))} (an unmounted share?); {loss}; "
                         f"nothing was changed (pass --allow-empty to do it on purpose)")


def resolve(config: Config | None, corpus_dirs: Iterable[Path] | None, index_dir: Path | None) -> tuple[Config, bool]:
    """The run's config with the call's folders applied, and whether corpus folders were given."""
    dirs = tuple(Path(d) for d in corpus_dirs) if corpus_dirs else None
    return (config or load_config()).with_(corpus_dirs=dirs, index_dir=Path(index_dir) if index_dir else None), dirs is not None


def build_index(
    corpus_dirs: Iterable[Path] | None = None,
    index_dir: Path | None = None,
    config: Config | None = None,
    progress: Progress | None = None,
    keep: int = DEFAULT_KEEP,
    wait: float | None = None,
    mode: str = "build",
    *,
    engine: str | None = None,
    allow_empty: bool = False,
) -> BuildReport:
    """Index the corpus folders into a new generation of `index_dir` and make it the serving one.

    Holds the index lock (LockHeld if another run has it, after `wait` seconds). On any failure the
    half-built generation is removed and the previous one keeps serving (BuildFailed). Folders that
    hold no article file are refused (CorpusMissing) unless `allow_empty`. An existing index keeps
    its engine unless `engine` names another; `config.engine` is the engine of a new index.
    """
    config, explicit = resolve(config, corpus_dirs, index_dir)
    return locked_run(config.index_dir, mode, wait, lambda store, notes: full_build(
        store, config, explicit, progress or NoProgress(), keep, mode, notes, engine, allow_empty))


def full_build(store: IndexStore, config: Config, explicit: bool, progress: Progress, keep: int, mode: str,
               notes: list[str], engine_name: str | None = None, allow_empty: bool = False) -> BuildReport:
    """Write every article of the corpus into a fresh generation and publish it (caller holds the lock)."""
    started = time.monotonic()
    roots = corpus_roots(config, explicit, store)
    require_roots(roots)
    previous = serving_or_none(store, notes)
    engine = get_engine(engine_name or kept_engine(store, previous) or config.engine, config)
    files, listing_problems = find_files(roots, config.follow_symlinks)
    if not files and not allow_empty:
        raise no_article_files(roots, (previous.meta.articles or 0) if previous else 0)
    progress.start(sum(f.size for f in files))
    try:
        generation = store.new_generation()
    except OSError as exc:  # a read-only or full index folder: nothing was started
        raise BuildFailed(f"cannot create a new index generation in {store.root}: {exc.strerror or exc}") from None
    checkpoint("generation-created")

    def write() -> Batch:
        writer = with_vectors(engine.create(generation), generation, config, notes, update=False)
        return commit_or_cancel(writer, lambda: index_files(writer, files, config, progress, Claims()), progress)

    before = Manifest.load(previous.path) if previous else None
    return finish_generation(store, engine, generation, write, previous, before, roots, keep, mode, listing_problems,
                             started, notes, config)


def kept_engine(store: IndexStore, serving: Generation | None) -> str | None:
    """The engine an existing index was built with: the serving generation's, else (it is damaged)
    the newest readable one's; None for a new index."""
    if serving is not None:
        return serving.engine
    generations = store.generations() if store.root.is_dir() else []
    return generations[-1].engine if generations else None


def serving_or_none(store: IndexStore, notes: list[str]) -> Generation | None:
    """The serving generation, or None if there is none or it is damaged (a rebuild is the cure)."""
    if not store.exists():
        return None
    try:
        return store.current()
    except IndexDamaged as exc:
        notes.append(f"the serving index was damaged ({exc}); replaced it")
        return None


def commit_or_cancel(writer: EngineWriter, work: Callable[[], Batch], progress: Progress | None = None) -> Batch:
    """Run the writes and commit them; cancel the writer if anything fails."""
    try:
        batch = work()
        if progress is not None:
            progress.committing()
        checkpoint("before-commit")
        writer.commit()
        checkpoint("after-commit")
        return batch
    except BaseException:
        writer.cancel()
        raise


def finish_generation(store: IndexStore, engine: Engine, generation: Path, write: Callable[[], Batch],
                      previous: Generation | None, before: Manifest | None, roots: Iterable[Path], keep: int, mode: str,
                      listing_problems: list[Skipped], started: float, notes: list[str], config: Config,
                      shared_storage: bool = False) -> BuildReport:
    """Write, check, describe, flush, publish and prune a generation; on failure remove it and re-raise.

    `write` returns the entry of every file of the new generation (an update's include those it kept).
    `before` is the previous generation's manifest (to count what changed). `shared_storage`: the
    generation writes into the serving generation's service index (an in-place update), so a failure
    must not drop that index.
    """
    try:
        batch = write()
        manifest = Manifest(batch.entries)
        check(engine, generation, manifest.article_count, batch.probe)
        checkpoint("checked")
        manifest.save(generation)
        checkpoint("manifest-written")
        store.write_meta(generation, GenerationMeta(
            engine=engine.name, built_at=time.time(), articles=manifest.article_count,
            corpus_dirs=tuple(str(Path(d).resolve()) for d in roots), previous=previous.name if previous else None,
            mode=mode, service=engine.describe(generation), analysis=Analysis.current(),
        ))
        checkpoint("meta-written")
        store.sync(generation)
        engine.publish(generation)
        store.publish(generation)
    except BaseException as exc:
        if store.current_name() != generation.name:
            throw_away(engine, store, generation, keep_storage=shared_storage)
        if isinstance(exc, IndexDamaged):  # the new generation did not open: a failed build, not a usage error
            raise BuildFailed(f"{mode} failed, previous index still serving: {exc}") from exc
        raise
    pruned = prune_generations(store, keep, config)
    if pruned:
        notes.append(f"pruned {len(pruned)} old generation(s) (keeping {keep})")
    counts = count_changes(before, manifest)
    return BuildReport(
        index_dir=str(store.root), generation=generation.name, engine=engine.name, indexed=manifest.article_count,
        skipped=tuple(listing_problems + batch.problems + manifest.skipped()), seconds=time.monotonic() - started,
        added=counts.added, updated=counts.updated, removed=counts.removed, unchanged=counts.unchanged,
        mode=mode, notes=tuple(notes) + tuple(str(n) for n in batch.notices),
    )


def stores_elsewhere(engine: Engine) -> bool:
    """True for a service engine (OpenSearch): its documents live outside the generation folder.

    Such engines declare it (`Engine.stores_elsewhere`, see indexer.engines). Cloning their folder does not copy
    the documents, so an update writes into the serving index in place (not one transaction: see
    deploy/OPENSEARCH.md); the manifest is saved only after success, so the next update completes
    an update that failed half way.
    """
    return engine.stores_elsewhere


def throw_away(engine: Engine, store: IndexStore, generation: Path, keep_storage: bool = False) -> None:
    """Remove a failed generation: the engine's stored part (if any, and if its own) first, then the folder."""
    if not keep_storage:
        try:
            engine.discard(generation)
        except ArticleSearchError:
            pass  # the service is down: the folder still goes; the orphan index is pruned later
    store.discard(generation)


def prune_generations(store: IndexStore, keep: int, config: Config) -> list[str]:
    """Prune old generation folders, and the service indexes of those that own one nobody kept shares."""
    kept = store.kept(keep)

    def drop_storage(doomed: Generation) -> None:
        try:
            engine = get_engine(doomed.engine, config)
            described = engine.describe(doomed.path)
            if described and any(g.engine == doomed.engine and engine.describe(g.path) == described for g in kept):
                return  # an in-place update: a kept generation serves from the same service index
            engine.discard(doomed.path)
        except ArticleSearchError:
            pass  # unreachable service or damaged folder: the engine's own prune removes orphans later

    return store.prune(keep, drop_storage)


def check(engine: Engine, generation: Path, expected: int, probe: Article | None) -> None:
    """A generation may serve only if it opens, holds exactly the manifest's articles, and answers a search."""
    from .query_tree import And, Term

    from .analysis import terms

    index = engine.open(generation)
    try:
        found = index.doc_count()
        if found != expected:
            raise BuildFailed(f"check failed: the new index holds {found} articles, the corpus gave {expected}")
        words = terms(probe.headline)[:6] if probe else []
        if words:
            page = index.search(And(tuple(Term(w) for w in words)), {"headline": 1.0, "body": 1.0}, 1)
            if page.total < 1:
                raise BuildFailed(f"check failed: a probe search for {probe.headline!r} found nothing")  # type: ignore[union-attr]
    finally:
        index.close()
