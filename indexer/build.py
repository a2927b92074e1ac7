"""Full builds: read a corpus, write a new generation, check it, switch to it atomically."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable, Protocol

from .config import Config, load_config
from .engines import describe, discard, get_engine, publish
from .errors import ArticleSearchError, BuildFailed
from .generations import IndexStore
from .models import Article, BuildReport, Skipped
from .readers import CorpusFile, find_files, read_file


class Progress(Protocol):
    """Told the total amount of work (bytes of article files), then each step done."""

    def start(self, total: int) -> None: ...
    def advance(self, amount: int) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass


def read_corpus(files: Iterable[CorpusFile], config: Config, progress: Progress, skipped: list[Skipped]) -> Iterable[Article]:
    """Articles of the files in order; unreadable ones and duplicate ids go to `skipped`."""
    seen: dict[str, str] = {}
    for file in files:
        for item in read_file(file, config.max_article_bytes):
            if isinstance(item, Skipped):
                skipped.append(item)
            elif item.id in seen:
                skipped.append(Skipped(item.path, f"duplicate id {item.id!r} (first read from {seen[item.id]})", item.line))
            else:
                seen[item.id] = item.path
                yield item
        progress.advance(file.size)


def build_index(
    corpus_dirs: Iterable[Path] | None = None,
    index_dir: Path | None = None,
    config: Config | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Index the corpus folders into a new generation of `index_dir` and make it the serving one.

    On any failure the half-built generation is removed and the previous one keeps serving.
    """
    config = (config or load_config()).with_(
        corpus_dirs=tuple(Path(d) for d in corpus_dirs) if corpus_dirs else None, index_dir=index_dir
    )
    progress = progress or NoProgress()
    started = time.monotonic()
    engine = get_engine(config.engine, config)
    store = IndexStore(config.index_dir)
    files, skipped = find_files(config.corpus_dirs, config.follow_symlinks)
    progress.start(sum(f.size for f in files))
    generation = store.new_generation()
    try:
        writer = engine.create(generation)
        try:
            count = 0
            for article in read_corpus(files, config, progress, skipped):
                writer.add(article)
                count += 1
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        _check(engine, generation, count)
        store.write_meta(generation, {
            "engine": engine.name,
            "built_at": time.time(),
            "articles": count,
            "corpus_dirs": [str(Path(d).resolve()) for d in config.corpus_dirs],
            **describe(engine, generation),
        })
        publish(engine, generation)
        store.publish(generation)
    except ArticleSearchError:
        _throw_away(engine, store, generation)
        raise
    except Exception as exc:
        _throw_away(engine, store, generation)
        raise BuildFailed(f"build failed, previous index still serving: {type(exc).__name__}: {exc}") from exc
    except BaseException:
        _throw_away(engine, store, generation)
        raise
    return BuildReport(
        index_dir=str(config.index_dir), generation=generation.name, engine=engine.name, indexed=count,
        skipped=tuple(skipped), seconds=time.monotonic() - started, added=count,
    )


def _throw_away(engine: object, store: IndexStore, generation: Path) -> None:
    """Remove a failed generation: the engine's stored part (if any) first, then the folder."""
    try:
        discard(engine, generation)  # type: ignore[arg-type]
    except ArticleSearchError:
        pass  # the service is down: the folder still goes; the orphan index is pruned later
    store.discard(generation)


def _check(engine: object, generation: Path, expected: int) -> None:
    """A generation must open and hold every article written before it may serve."""
    index = engine.open(generation)  # type: ignore[attr-defined]
    try:
        found = index.doc_count()
    finally:
        index.close()
    if found != expected:
        raise BuildFailed(f"check failed: the new index holds {found} articles, {expected} were written")
