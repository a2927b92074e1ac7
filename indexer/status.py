"""What `search-index status` shows: the serving generation, the kept ones, the last run, a run in progress."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import ArticleSearchError
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def index_status(index_dir: Path) -> IndexStatus:
    """Read-only: never takes the lock, so it cannot delay or block a run."""
    store = IndexStore(index_dir)
    current_name = store.current_name() if store.root.is_dir() else None
    infos = []
    for generation in reversed(store.generations()) if store.root.is_dir() else []:
        meta = generation.meta
        infos.append(GenerationInfo(generation.name, meta.get("built_at"), meta.get("articles"), store.size(generation.path),
                                    generation.engine, meta.get("mode"), generation.name == current_name))
    current = next((i for i in infos if i.serving), None)
    corpus: tuple[str, ...] = ()
    if current is not None:
        corpus = tuple(store.load(current.name).meta.get("corpus_dirs", ()))
    try:
        rollback_to: str | None = store.rollback_target().name if current else None
    except ArticleSearchError:
        rollback_to = None
    holder = read_holder(store.root)
    return IndexStatus(
        index_dir=str(store.root), current=current, pointer=current_name, generations=tuple(infos), corpus_dirs=corpus,
        rollback_to=rollback_to, running=holder.describe() if holder and holder.alive else None,
        interrupted=holder.describe() if holder and not holder.alive else None,
        last_run=store.last_run(),
    )
