"""Incremental updates: re-read only added and changed files, write only their new and changed articles,
drop the articles of removed files and records.

Why a new generation rather than changing the serving index in place: the serving generation is
cloned (hard links, instant), the changes are applied to the clone, the clone is checked and
published with the same atomic switch as a full build. Searches never see a half-applied update, a
killed update leaves the serving generation untouched, and rollback works after updates too.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from .build import (DEFAULT_KEEP, Batch, NoProgress, Progress, commit_or_cancel, corpus_roots, finish_generation,
                    full_build, index_files, no_article_files, prune_generations, require_roots, resolve,
                    serving_or_none, stores_elsewhere)
from .config import Config
from .engines import get_engine
from .faults import checkpoint
from .generations import IndexStore
from .manifest import FileEntry, Manifest, compare
from .models import BuildReport
from .readers import LINE_RECORDS, CorpusFile, find_files, format_of
from .records import Claims, moved_only
from .runs import locked_run
from .vectors import with_vectors


def update_index(
    corpus_dirs: Iterable[Path] | None = None,
    index_dir: Path | None = None,
    config: Config | None = None,
    progress: Progress | None = None,
    keep: int = DEFAULT_KEEP,
    wait: float | None = None,
    *,
    allow_empty: bool = False,
) -> BuildReport:
    """Bring the index up to date with the corpus folders; a full build if there is no usable index yet.

    Folders without any article file are refused (CorpusMissing) unless `allow_empty`; an index
    built by another text analysis is refused (IndexDamaged: rebuild it).
    """
    config, explicit = resolve(config, corpus_dirs, index_dir)
    return locked_run(config.index_dir, "update", wait,
                      lambda store, notes: _update(store, config, explicit, progress or NoProgress(), keep, notes, allow_empty))


def _update(store: IndexStore, config: Config, explicit: bool, progress: Progress, keep: int, notes: list[str],
            allow_empty: bool) -> BuildReport:
    started = time.monotonic()

    def rebuild() -> BuildReport:
        return full_build(store, config, explicit, progress, keep, "update", notes, allow_empty=allow_empty)

    if not store.exists():
        notes.append("no index yet: built one from scratch")
        return rebuild()
    current = serving_or_none(store, notes)
    if current is None:
        return rebuild()
    current.require_analysis()  # another analysis: the changed articles' terms would not match the others'
    manifest = Manifest.load(current.path)
    if manifest is None or current.meta.analysis is None:
        notes.append(f"{current.name} has no {'manifest' if manifest is None else 'analysis record'} "
                     f"(built by an older version): rebuilt from scratch")
        return rebuild()
    roots = corpus_roots(config, explicit, store)
    require_roots(roots)
    files, listing_problems = find_files(roots, config.follow_symlinks)
    if not files and manifest.article_count and not allow_empty:
        raise no_article_files(roots, manifest.article_count)
    changes = compare(manifest, files)
    if not changes.read and not changes.gone and all(manifest.files.get(e.path) == e for e in changes.keep):
        notes.append("nothing changed: the serving generation stays")
        if prune_generations(store, keep, config):  # what a run killed after its switch had no time to prune
            notes.append(f"pruned old generations (keeping {keep})")
        return BuildReport(
            index_dir=str(store.root), generation=current.name, engine=current.engine, indexed=manifest.article_count,
            skipped=tuple(listing_problems + manifest.skipped()), seconds=time.monotonic() - started,
            unchanged=manifest.article_count, mode="update", notes=tuple(notes),
        )
    order = {f.key: n for n, f in enumerate(files)}
    by_path = {f.key: f for f in files}
    engine = get_engine(current.engine, config)
    in_place = stores_elsewhere(engine)
    if in_place:
        notes.append(f"the {engine.name} engine keeps articles in a service: changes were applied to the serving index in place "
                     f"(changed files re-indexed whole)")
    # A service index updated in place may still hold articles of an update that failed half way, which
    # no manifest lists: there a changed file is re-indexed whole (its articles deleted by path first).
    owners = {i: (e.path, None if in_place else h) for e in manifest.files.values() for i, h in e.records()}
    claims = Claims(order, {e.path: (*e.ids, *e.duplicates) for e in changes.keep}, owners)
    to_read = [f if in_place else known_records(f, manifest.files.get(f.key)) for f in changes.read]
    progress.start(sum(f.size for f in to_read))
    generation = store.clone(current.path)
    checkpoint("generation-created")

    def write() -> Batch:
        writer = with_vectors(engine.update(generation), generation, config, notes, update=True)

        def apply() -> Batch:
            gone = {e.path for e in changes.gone}
            for path in sorted(gone | ({f.key for f in to_read if f.key in manifest.files} if in_place else set())):
                writer.delete_path(path)
                checkpoint("deleted")
            batch = index_files(writer, to_read, config, progress, claims)
            # Kept files yielding an id that changed hands are read again: they claim it, give it up, or
            # report their duplicate as coming from another file.
            again = [e for e in changes.keep if claims.moved((*e.ids, *e.duplicates))]
            for entry in again if in_place else ():
                writer.delete_path(entry.path)
            batch.extend(index_files(writer, [f if in_place else known_records(f, manifest.files[f.key])
                                              for f in (by_path[e.path] for e in again)], config, NoProgress(), claims))
            shifted = sum(moved_only(owners[i][1], h) for e in batch.entries.values() for i, h in e.records()
                          if h and owners.get(i, ("",))[0] == e.path)
            if shifted:
                notes.append(f"{shifted:,} of the updated articles only moved to another line (a record above them "
                             f"was added or removed): their line is stored with them")
            reread = {e.path for e in again}
            batch.entries = {**{e.path: e for e in changes.keep if e.path not in reread}, **batch.entries}
            owned = {i for e in batch.entries.values() for i in e.ids}
            writer.delete_ids(i for i, (path, _) in owners.items() if i not in owned and path not in gone)
            checkpoint("deleted")
            return batch

        return commit_or_cancel(writer, apply, progress)

    return finish_generation(store, engine, generation, write, current, manifest, roots, keep, "update", listing_problems,
                             started, notes, config, shared_storage=in_place)


def known_records(file: CorpusFile, entry: FileEntry | None) -> CorpusFile:
    """The file with the records the serving generation holds of it, by line hash, when its reader can
    tell them unparsed (JSONL) and their ids were made as they would be now (same folder and label)."""
    if (entry is None or not entry.hashes or entry.root != str(file.root) or entry.label != file.label
            or format_of(file.path) not in LINE_RECORDS):
        return file
    return replace(file, known=dict(zip(entry.hashes, entry.ids)))
