"""What `search-index status` shows: the serving generation, the kept ones, the last run, a run in progress."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import ArticleSearchError, IndexDamaged
from .generations import IndexStore
from .lock import read_holder


@dataclass(frozen=True)
class GenerationInfo:
    name: str
    built_at: float | None
    articles: int | None
    size_bytes: int
    engine: str
    mode: str | None
    serving: bool


@dataclass(frozen=True)
class IndexStatus:
    index_dir: str
    current: GenerationInfo | None
    pointer: str | None  # the generation CURRENT names (differs from current.name only if it is damaged)
    generations: tuple[GenerationInfo, ...]  # complete ones, newest first
    corpus_dirs: tuple[str, ...]
    rollback_to: str | None  # the generation `search-index rollback` would serve
    running: str | None  # description of the run in progress
    interrupted: str | None  # a run that was killed and not yet cleaned up after
    last_run: dict[str, Any] | None
    problems: tuple[str, ...] = ()  # why the serving generation or the last run's record cannot be used

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def index_status(index_dir: Path) -> IndexStatus:
    """Read-only: never takes the lock, so it cannot delay or block a run."""
    store = IndexStore(index_dir)
    current_name = store.current_name() if store.root.is_dir() else None
    generations = list(reversed(store.generations())) if store.root.is_dir() else []
    problems: list[str] = []
    if current_name:
        try:
            store.load(current_name).require_analysis()
        except IndexDamaged as exc:
            problems.append(str(exc))
    last_run: dict[str, Any] | None = None
    try:
        last_run = store.last_run()
    except IndexDamaged as exc:
        problems.append(str(exc))
    infos = [GenerationInfo(g.name, g.meta.built_at, g.meta.articles, store.size(g.path), g.engine, g.meta.mode,
                            g.name == current_name) for g in generations]
    current = next((i for i in infos if i.serving), None)
    corpus: tuple[str, ...] = ()
    if current is not None:
        corpus = next(g.meta.corpus_dirs for g in generations if g.name == current.name)
    try:
        rollback_to: str | None = store.rollback_target().name if current else None
    except ArticleSearchError:
        rollback_to = None
    holder = read_holder(store.root)
    return IndexStatus(
        index_dir=str(store.root), current=current, pointer=current_name, generations=tuple(infos), corpus_dirs=corpus,
        rollback_to=rollback_to, running=holder.describe() if holder and holder.alive else None,
        interrupted=holder.describe() if holder and not holder.alive else None,
        last_run=last_run, problems=tuple(problems),
    )
