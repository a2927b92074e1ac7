"""The one search code path behind both the `search` CLI and the Python API."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.config import Config, load_config
from indexer.engines import EngineHit, EngineIndex, EnginePage, Filters, supports
from indexer.errors import ArticleSearchError, IndexDamaged, IndexMissing, QueryError
from indexer.generations import VECTOR_IDS, IndexStore

from .models import Hit, SearchResults
from .recovery import OpenIndex, open_generation
from .snippets import mark, make_snippets
from .suggest import Suggestion, corrected, suggestion
from .syntax import SEARCH_FIELDS, ParsedQuery, TermMatcher, parse, restrict

if TYPE_CHECKING:
    from indexer.build import Progress

    from .semantic import SemanticRanker

MAX_LIMIT = 10_000
OPEN_ATTEMPTS = 5  # re-reads of CURRENT when a generation vanishes while being opened
SORTS = ("relevance", "date")


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
            from indexer.build import build_index  # only a first run builds: keep it off the query path

            build_index(config=self.config, progress=progress)
        self._generation: str | None = None  # the serving generation named by the pointer
        self._answering: str | None = None  # the one answering: older if the serving one is damaged
        self._damaged: dict[str, str] = {}  # generation -> why it was found damaged while searching
        self._engine_name = ""
        self._index: EngineIndex | None = None
        self._semantic: tuple[str, SemanticRanker | None] | None = None  # (generation, its ranker)
        self.warning: str | None = None  # set while an older generation answers for a damaged one

    def refresh(self) -> bool:
        """Switch to the serving generation if it changed; True if it did.

        Generations are pruned only by a run holding the index lock, and never the one that served
        before the last switch (see indexer.generations), so the generation named by CURRENT is
        still there when we open it. If a reader is so slow that two switches pass between reading
        CURRENT and opening, the open fails (or falls back to an older generation) and we re-read
        CURRENT and open the newer generation. An index already open stays readable after its
        folder is deleted (open files live on). A generation that is really damaged is answered
        for by an older one (see `query.recovery`).
        """
        for attempt in range(OPEN_ATTEMPTS):
            name = self.store.current_name()
            if name is None:
                raise IndexMissing(
                    f"no index at {self.config.index_dir}; build one with: search-index build CORPUS_DIR --index {self.config.index_dir}"
                )
            if name == self._generation and self._index is not None:
                return False
            retry = attempt + 1 < OPEN_ATTEMPTS
            try:
                opened = open_generation(self.store, name, self.config, self._damaged)
            except IndexDamaged:
                if retry and self.store.current_name() != name:
                    continue  # that generation was replaced and pruned meanwhile: open the new one
                raise
            if opened.warning and retry and self.store.current_name() != name:
                opened.index.close()  # not damaged but replaced meanwhile: open the new one
                continue
            self._use(name, opened)
            return True
        raise AssertionError("unreachable")

    def _open(self, name: str) -> None:
        """Open generation `name`, or an older one while it is damaged (see `query.recovery`)."""
        self._use(name, open_generation(self.store, name, self.config, self._damaged))

    def _use(self, name: str, opened: OpenIndex) -> None:
        self.close()
        self._index, self._generation, self._answering = opened.index, name, opened.generation
        self._engine_name, self.warning = opened.engine, opened.warning

    def search(self, query: str = "", limit: int | None = None, context: int | None = None, field: str | None = None,
               snippets: int | None = None, filters: Filters | None = None, *, since: str | None = None,
               until: str | None = None, source: str | None = None, category: str | None = None,
               sort: str = "relevance", explain: bool = False, like: str | None = None,
               exact: bool = False) -> SearchResults:
        """Search; all words must match, else any word (`fallback` says so).

        Keyword options mirror the CLI: `since`/`until` (YYYY, YYYY-MM or YYYY-MM-DD, inclusive),
        `source`, `category`, `sort` ("relevance" or "date", newest first), `explain` (per field and
        term score contributions), `like` (articles similar to that article id, instead of a query),
        `exact` (no did-you-mean correction of words the index lacks).
        """
        limit = self.config.limit if limit is None else limit
        context = self.config.context if context is None else context
        snippet_count = self.config.snippets if snippets is None else snippets
        _check_options(limit, context, snippet_count, field, sort)
        filters = _filters(filters, since, until, source, category)
        while True:  # each round marks one more generation damaged; _open raises when none is left
            self.refresh()
            try:
                return self._search(query, limit, context, field, snippet_count, filters, sort, explain, like, exact)
            except IndexDamaged as exc:
                assert self._generation is not None
                self._damaged[self._answering or self._generation] = str(exc)
                self._open(self._generation)

    def _search(self, query: str, limit: int, context: int, field: str | None, snippet_count: int, filters: Filters,
                sort: str, explain: bool, like: str | None, exact: bool) -> SearchResults:
        """One search on the open generation."""
        assert self._index is not None
        if like is not None:
            if query.strip():
                raise QueryError("give either a query or --like ARTICLE_ID, not both")
            parsed = self._like(like)
            filters = replace(filters, exclude_ids=(*filters.exclude_ids, like))
        else:
            parsed = parse(query)
        if field:
            parsed = ParsedQuery(parsed.text, restrict(parsed.root, field), parsed.plain_words)
        weights, by_date = self.config.weights, sort == "date"
        extra = {"explain": True} if explain else {}
        if explain and not supports(self._index, "explain"):
            raise QueryError(f"--explain is not supported by the {self._engine_name} engine")
        ranker = self._ranker() if not (explain or by_date or like is not None) else None
        depth = limit
        if ranker is not None:
            from .semantic import DEPTH, plain_words

            ranker, depth = (ranker, max(limit, DEPTH)) if plain_words(parsed) else (None, limit)

        def run(tree: ParsedQuery) -> tuple[EnginePage, ParsedQuery, bool]:
            assert self._index is not None
            page = self._index.search(tree.root, weights, depth, filters, by_date, **extra)
            if page.total == 0 and (relaxed := tree.relaxed()) is not None:
                return self._index.search(relaxed.root, weights, depth, filters, by_date, **extra), relaxed, True
            return page, tree, False

        found: Suggestion | None = None
        can_correct = not exact and like is None and supports(self._index, "similar_terms")
        fixed = corrected(parsed, self._index) if can_correct else None
        if fixed is not None:
            page, searched, fallback = run(fixed[0])
            if page.total:
                texts = [t for h in page.hits[:3] for t in (h.article.headline, *h.article.body)]
                found = suggestion(parsed.text, fixed[1], texts)
        if found is None:
            page, searched, fallback = run(parsed)
        if ranker is not None and page.total:
            page = self._fuse(ranker, parsed.text, page, limit, bool(filters))  # the model reads typos well
        matches = TermMatcher(searched.root)
        hits = tuple(_hit(h, rank, matches, snippet_count, context) for rank, h in enumerate(page.hits, start=1))
        return SearchResults(parsed.text, page.total, fallback, hits, self._answering or "", parsed.plain_words, found)

    def _ranker(self) -> SemanticRanker | None:
        """The semantic ranker of the answering generation, if it has vectors and semantic ranking is on.

        Checked by file first: neither numpy nor the model is loaded for an index without vectors.
        """
        answering = self._answering or self._generation or ""
        if self._semantic is None or self._semantic[0] != answering:
            path = self.store.root / answering
            ranker = None
            if self.config.semantic != "off" and (path / VECTOR_IDS).is_file():
                from indexer.vectors import semantic_enabled

                from .semantic import SemanticRanker

                try:
                    ranker = SemanticRanker.open(path, self.config.model_dir) if semantic_enabled(self.config) else None
                except ArticleSearchError as exc:  # a missing model with semantic = on, damaged vectors
                    self.warning = f"{exc}; ranking by the words only"
            self._semantic = (answering, ranker)
        return self._semantic[1]

    def _fuse(self, ranker: SemanticRanker, text: str, lexical: EnginePage, limit: int, filtered: bool) -> EnginePage:
        """Lexical and semantic rankings fused (query.semantic); with filters, or an engine that cannot
        fetch an article by id, only the articles the engine found take part."""
        from .semantic import DEPTH, fuse

        index = self._index
        assert index is not None
        can_fetch = supports(index, "article") and not filtered
        admits = None if can_fetch else {h.article.id for h in lexical.hits}.__contains__

        def fetch(doc_id: str) -> EngineHit | None:
            article = index.article(doc_id) if can_fetch else None
            return EngineHit(article, 0.0) if article is not None else None

        return fuse(lexical, ranker.nearest(text, DEPTH, admits), limit, fetch)

    def _like(self, article_id: str) -> ParsedQuery:
        assert self._index is not None
        if not supports(self._index, "article"):
            raise QueryError(f"--like is not supported by the {self._engine_name} engine")
        article = self._index.article(article_id)
        if article is None:
            raise QueryError(f"no article with id {article_id!r} in the index")
        from .like import like_query  # only --like needs it: keeps `search` start-up short

        root = like_query(article, self.config.weights, self._index)
        if root is None:
            raise QueryError(f"article {article_id!r} has no words to look for")
        return ParsedQuery(f"like:{article_id}", root)

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def search(query: str = "", limit: int = 10, index: Path | str | None = None, **options: Any) -> SearchResults:
    """Search once. With no `index`, the configured one is used (built from the corpus if missing).

    Options: as `Searcher.search` (context, field, snippets, since, until, source, category, sort,
    explain, like, exact)."""
    with Searcher(index, build_if_missing=index is None) as searcher:
        return searcher.search(query, limit=limit, **options)


def _check_options(limit: int, context: int, snippet_count: int, field: str | None, sort: str) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
    if context < 0 or snippet_count < 0:
        raise QueryError("context and snippets must not be negative")
    if field is not None and field not in SEARCH_FIELDS:
        raise QueryError(f"unknown field {field!r}; choose one of: {', '.join(SEARCH_FIELDS)}")
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}; choose one of: {', '.join(SORTS)}")


def _hit(found: EngineHit, rank: int, matches: TermMatcher, snippet_count: int, context: int) -> Hit:
    """An engine hit as the query layer shows it: highlights and snippets."""
    article = found.article
    return Hit(
        id=article.id, path=article.path, line=article.line, headline=article.headline,
        headline_highlights=mark(article.headline, matches)[1], score=found.score, date=article.date,
        source=article.source, categories=article.categories,
        snippets=make_snippets(article, matches, snippet_count, context),
        rank=rank, explanation=found.explanation,
    )


def _filters(base: Filters | None, since: str | None, until: str | None, source: str | None,
             category: str | None) -> Filters:
    """The keyword options as engine `Filters`, dates checked, on top of any given `Filters`."""
    base = base or Filters()
    since, until = _date(since, "since"), _date(until, "until")
    if since and until and since > until:
        raise QueryError(f"--since {since} is after --until {until}")
    return replace(
        base, since=since or base.since, until=until or base.until,
        source=source.lower() if source else base.source, category=category.lower() if category else base.category,
    )


def _date(value: str | None, name: str) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD, checked; the ISO prefix compares with article dates as text."""
    if value is None:
        return None
    from datetime import datetime  # only date filters need it

    value = value.strip()
    for pattern, length in (("%Y-%m-%d", 10), ("%Y-%m", 7), ("%Y", 4)):
        try:
            if len(value) == length:
                datetime.strptime(value, pattern)
                return value
        except ValueError:
            break
    raise QueryError(f"--{name} {value!r} is not a date; use YYYY-MM-DD, YYYY-MM or YYYY")
