"""The one search code path behind both the `search` CLI and the Python API."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from indexer.build import Progress, build_index
from indexer.config import Config, load_config
from indexer.engines import EngineIndex, Filters, get_engine
from indexer.errors import IndexDamaged, IndexMissing, QueryError
from indexer.generations import IndexStore

from .models import Hit, SearchResults
from .snippets import mark, make_snippets
from .syntax import SEARCH_FIELDS, ParsedQuery, parse, restrict, term_matcher

MAX_LIMIT = 10_000
OPEN_ATTEMPTS = 5  # re-reads of CURRENT when a generation vanishes while being opened


class Searcher:
    """A long-lived handle on an index folder.

    It follows generation switches: before each search it checks which generation is serving and
    reopens if a rebuild switched it, so it never keeps answering from a replaced index.
    """

    def __init__(self, index: Path | str | None = None, config: Config | None = None,
                 build_if_missing: bool = False, progress: Progress | None = None) -> None:
        self.config = (config or load_config()).with_(index_dir=Path(index) if index else None)
        self.store = IndexStore(self.config.index_dir)
        if build_if_missing and not self.store.exists():
            build_index(config=self.config, progress=progress)
        self._generation: str | None = None
        self._index: EngineIndex | None = None

    def refresh(self) -> bool:
        """Switch to the serving generation if it changed; True if it did.

        Generations are pruned only by a run holding the index lock, and never the one that served
        before the last switch (see indexer.generations), so the generation named by CURRENT is
        still there when we open it. If a reader is so slow that two switches pass between reading
        CURRENT and opening, the open fails and we re-read CURRENT and open the newer generation.
        An index already open stays readable after its folder is deleted (open files live on).
        """
        for attempt in range(OPEN_ATTEMPTS):
            name = self.store.current_name()
            if name is None:
                raise IndexMissing(
                    f"no index at {self.config.index_dir}; build one with: search-index build CORPUS_DIR --index {self.config.index_dir}"
                )
            if name == self._generation and self._index is not None:
                return False
            try:
                generation = self.store.load(name)
                index = get_engine(generation.engine, self.config).open(generation.path)
            except IndexDamaged:
                if attempt + 1 < OPEN_ATTEMPTS and self.store.current_name() != name:
                    continue  # that generation was replaced and pruned meanwhile: open the new one
                raise
            self.close()
            self._index, self._generation = index, name
            return True
        raise AssertionError("unreachable")

    def search(self, query: str, limit: int | None = None, context: int | None = None, field: str | None = None,
               snippets: int | None = None, filters: Filters | None = None) -> SearchResults:
        """Search; all words must match, else any word (`fallback` says so)."""
        limit = self.config.limit if limit is None else limit
        context = self.config.context if context is None else context
        snippet_count = self.config.snippets if snippets is None else snippets
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
        if context < 0 or snippet_count < 0:
            raise QueryError("context and snippets must not be negative")
        if field is not None and field not in SEARCH_FIELDS:
            raise QueryError(f"unknown field {field!r}; choose one of: {', '.join(SEARCH_FIELDS)}")
        parsed = parse(query)
        if field:
            parsed = ParsedQuery(parsed.text, restrict(parsed.root, field), parsed.plain_words)
        self.refresh()
        assert self._index is not None
        page = self._index.search(parsed.root, self.config.weights, limit, filters)
        fallback = False
        if page.total == 0 and (relaxed := parsed.relaxed()) is not None:
            page, parsed, fallback = self._index.search(relaxed.root, self.config.weights, limit, filters), relaxed, True
        matches = term_matcher(parsed.root)
        hits = tuple(
            Hit(
                id=h.article.id, path=h.article.path, line=h.article.line, headline=h.article.headline,
                headline_highlights=mark(h.article.headline, matches)[1], score=h.score, date=h.article.date,
                source=h.article.source, categories=h.article.categories,
                snippets=make_snippets(h.article, matches, snippet_count, context), rank=rank,
            )
            for rank, h in enumerate(page.hits, start=1)
        )
        return SearchResults(query, page.total, fallback, hits, self._generation or "", parsed.plain_words)

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def search(query: str, limit: int = 10, index: Path | str | None = None, **options: Any) -> SearchResults:
    """Search once. With no `index`, the configured one is used (built from the corpus if missing)."""
    with Searcher(index, build_if_missing=index is None) as searcher:
        return searcher.search(query, limit=limit, **options)
