"""Incremental updates: re-read only added and changed files, drop the articles of removed ones.

Why a new generation rather than changing the serving index in place: the serving generation is
cloned (hard links, instant), the changes are applied to the clone, the clone is checked and
published with the same atomic switch as a full build. Searches never see a half-applied update, a
killed update leaves the serving generation untouched, and rollback works after updates too.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable

from .build import (DEFAULT_KEEP, Batch, NoProgress, Progress, commit_or_cancel, corpus_roots, finish_generation,
                    full_build, index_files, no_article_files, prune_generations, require_roots, resolve,
                    serving_or_none, stores_elsewhere)
from .config import Config
from .engines import get_engine
from .faults import checkpoint
from .generations import IndexStore
from .manifest import Manifest, compare
from .models import BuildReport
from .readers import CorpusFile, find_files
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
    # Ids freed by removed or changed files may be claimed by a kept file that had them as duplicates.
    replaced = {f.key for f in changes.read if f.key in manifest.files}
    freed = {i for e in changes.gone for i in e.ids} | {i for p in replaced for i in manifest.files[p].ids}
    by_path = {f.key: f for f in files}
    claimers = {e.path for e in changes.keep if freed.intersection(e.duplicates)}
    kept = [e for e in changes.keep if e.path not in claimers]
    to_read: list[CorpusFile] = sorted([*changes.read, *(by_path[p] for p in claimers)], key=lambda f: f.key)
    owners = {i: e.path for e in kept for i in e.ids}
    engine = get_engine(current.engine, config)
    in_place = stores_elsewhere(engine)
    if in_place:
        notes.append(f"the {engine.name} engine keeps articles in a service: changes were applied to the serving index in place")
    progress.start(sum(f.size for f in to_read))
    generation = store.clone(current.path)
    checkpoint("generation-created")

    def write() -> Batch:
        writer = with_vectors(engine.update(generation), generation, config, notes, update=True)

        def apply() -> Batch:
            for path in sorted({e.path for e in changes.gone} | replaced | claimers):
                writer.delete_path(path)
                checkpoint("deleted")
            return index_files(writer, to_read, config, progress, owners)

        return commit_or_cancel(writer, apply, progress)

    return finish_generation(store, engine, generation, write, current, manifest, roots, keep, "update", listing_problems,
                             started, notes, config, kept=kept, shared_storage=in_place)
