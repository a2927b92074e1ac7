"""Serving through damage: when the serving index generation cannot be read, answer from the newest
other complete generation that can, and tell the user how to rebuild.

A generation is damaged when its files were truncated, deleted or garbled after it was published
(a full disk, a bad copy, a careless `rm`). Searches keep working from an older generation until a
rebuild replaces the damaged one; without an older one, the error says how to rebuild.
"""
from __future__ import annotations

from typing import Mapping, NamedTuple

from indexer.config import Config
from indexer.engines import EngineIndex, get_engine
from indexer.errors import ArticleSearchError, IndexDamaged
from indexer.generations import Generation, GenerationMeta, IndexStore


class OpenIndex(NamedTuple):
    """An open generation; `warning` is set when it answers in place of a damaged serving one."""

    index: EngineIndex
    generation: str
    engine: str
    warning: str | None = None


def rebuild_command(store: IndexStore, meta: GenerationMeta | None = None) -> str:
    """The command that rebuilds this index from the corpus it was built from (see IndexStore.rebuild_command)."""
    return store.rebuild_command(meta.corpus_dirs if meta else ())


def open_generation(store: IndexStore, name: str, config: Config, damaged: Mapping[str, str] | None = None) -> OpenIndex:
    """Open generation `name`, or the newest other complete one if it is damaged.

    `damaged` maps generations already found damaged (while searching) to the reason. Raises
    IndexDamaged, with the rebuild command, when no generation can be opened.
    """
    skip = dict(damaged or {})
    meta: GenerationMeta | None = None
    problem = skip.get(name, "")
    if name in skip:
        try:
            meta = store.load(name).meta  # for the rebuild command: the folders it was built from
        except IndexDamaged:
            pass
    else:
        try:
            generation = store.load(name)
            meta = generation.meta
            return OpenIndex(_open(generation, config), name, generation.engine)
        except IndexDamaged as exc:
            problem = str(exc).split("; rebuild with:")[0]  # one rebuild hint, ours, at the end
    for older in reversed(store.generations()):  # newest first
        if older.name == name or older.name in skip:
            continue
        try:
            index = _open(older, config)
        except ArticleSearchError:
            continue
        warning = (f"{problem}; answering from the previous generation {older.name} instead; "
                   f"rebuild with: {rebuild_command(store, meta or older.meta)}")
        return OpenIndex(index, older.name, older.engine, warning)
    raise IndexDamaged(f"{problem}; rebuild it with: {rebuild_command(store, meta)}")


def _open(generation: Generation, config: Config) -> EngineIndex:
    generation.require_analysis()
    index = get_engine(generation.engine, config).open(generation.path)
    try:
        index.doc_count()  # reads the segment table: catches most truncations before a search does
    except ArticleSearchError:
        index.close()
        raise
    return index
