"""The one search code path behind both the `search` CLI and the Python API."""
from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

from indexer.config import Config, load_config
from indexer.engines import FACETS, EngineHit, EngineIndex, EnginePage, Filters, supports
from indexer.errors import ArticleSearchError, IndexDamaged, IndexMissing, QueryError
from indexer.expansion import expand
from indexer.generations import VECTOR_IDS, IndexStore

from .models import Hit, SearchResults, Serving
from .evidence import Found
from .ranking import Ranked, all_words_first
from .recovery import OpenIndex, open_generation
from .snippets import mark, make_snippets
from .suggest import Suggestion, corrected, suggestion
from .syntax import SEARCH_FIELDS, ParsedQuery, TermMatcher, parse, restrict

if TYPE_CHECKING:
    from indexer.build import Progress
    from indexer.models import Article

    from .semantic import SemanticRanker

MAX_LIMIT = 10_000
OPEN_ATTEMPTS = 5  # re-reads of CURRENT when a generation vanishes while being opened
SEARCH_ATTEMPTS = 8  # a search retried after a switch, a re-open, or a damaged generation set aside
SORTS = ("relevance", "date")
FACET_VALUES = 20  # values listed per facet, those in the most matching articles
T = TypeVar("T")


class _Handle:
    """One open generation, shared by the searches running on it.

    It is closed only when it has been replaced (retired) and no search uses it any more, so a
    switch never closes an index under a running search. An engine that is not safe for
    concurrent use (whoosh reads its files through shared file objects) is called by one thread
    at a time; snippets and rendering run outside that lock.
    """

    def __init__(self, name: str, opened: OpenIndex, reopened: bool = False) -> None:
        self.name = name  # the serving generation named by CURRENT
        self.opened = opened  # what answers: that generation, or an older one if it is damaged
        self.reopened = reopened  # opened afresh after a read error: another error means real damage
        self.users = 0
        self.retired = False
        concurrent = "concurrent" in getattr(opened.index, "capabilities", ())
        self.engine_lock: AbstractContextManager[Any] = nullcontext() if concurrent else threading.RLock()
        self.semantic_lock = threading.Lock()
        self.semantic: tuple[SemanticRanker | None, str | None] | None = None  # (ranker, warning) once looked up

    @property
    def index(self) -> EngineIndex:
        return self.opened.index

    def close_if_unused(self) -> None:
        if self.retired and self.users == 0:
            self.opened.index.close()


class Searcher:
    """A long-lived handle on an index folder, safe to share between threads.

    It follows generation switches: before each search it checks which generation is serving and
    opens it if a rebuild switched it, so it never keeps answering from a replaced index. Any number
    of threads may search at once while generations switch; an open generation is closed only when
    no search uses it. Only errors reading the index count as damage, and only when a fresh open of
    the generation fails the same way (see `_after_read_error`); a bad argument is a TypeError or
    ValueError at the call and never touches the index.
    """

    def __init__(self, index: Path | str | None = None, config: Config | None = None,
                 build_if_missing: bool = False, progress: Progress | None = None) -> None:
        if index is not None and not isinstance(index, (str, Path)):
            raise TypeError(f"index must be a path, not {type(index).__name__}")
        if config is not None and not isinstance(config, Config):
            raise TypeError(f"config must be an indexer.config.Config, not {type(config).__name__}")
        self.config = (config or load_config()).with_(index_dir=Path(index) if index else None)
        self.store = IndexStore(self.config.index_dir)
        if build_if_missing and not self.store.exists():
            from indexer.build import build_index  # only a first run builds: keep it off the query path

            build_index(config=self.config, progress=progress)
        self._lock = threading.Lock()  # guards the fields below
        self._handle: _Handle | None = None
        self._damaged: dict[str, str] = {}  # generation -> why it was found damaged while searching

    @property
    def warning(self) -> str | None:
        """Set while an older generation answers for a damaged serving one (also on each result)."""
        handle = self._handle
        if handle is None:
            return None
        return handle.opened.warning or (handle.semantic[1] if handle.semantic else None)

    def refresh(self) -> bool:
        """Switch to the serving generation if it changed; True if it did."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> bool:
        """`refresh`, the caller holding `_lock`.

        Generations are pruned only by a run holding the index lock, and never the one that served
        before the last switch (see indexer.generations), so the generation named by CURRENT is
        still there when we open it. If a reader is so slow that two switches pass between reading
        CURRENT and opening, the open fails (or falls back to an older generation) and we re-read
        CURRENT and open the newer generation. A generation that is really damaged is answered
        for by an older one (see `query.recovery`).
        """
        for attempt in range(OPEN_ATTEMPTS):
            name = self.store.current_name()
            if name is None:
                raise IndexMissing(
                    f"no index at {self.config.index_dir}; build one with: search-index build CORPUS_DIR --index {self.config.index_dir}"
                )
            if self._handle is not None and name == self._handle.name and not self._handle.retired:
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
            self._use(_Handle(name, opened))
            return True
        raise AssertionError("unreachable")

    def _use(self, handle: _Handle | None) -> None:
        """Make `handle` the one new searches use (the caller holds `_lock`); retire the old one."""
        old, self._handle = self._handle, handle
        if old is not None:
            old.retired = True
            old.close_if_unused()

    def _acquire(self) -> _Handle:
        with self._lock:
            self._refresh()
            handle = self._handle
            assert handle is not None
            handle.users += 1
            return handle

    def _release(self, handle: _Handle) -> None:
        with self._lock:
            handle.users -= 1
            handle.close_if_unused()

    def _after_read_error(self, handle: _Handle, exc: IndexDamaged) -> None:
        """Decide what a read error means before the search is retried.

        - another thread already replaced the handle, or CURRENT moved on (a rebuild switched and
          pruned the generation under us): nothing is damaged; the retry opens the serving one;
        - the first error on a handle: re-open the same generation afresh and retry once;
        - an error on a fresh handle: that generation is damaged; an older one answers from now
          on, with a warning, until the next switch.
        """
        with self._lock:
            if handle is not self._handle or handle.retired:
                return
            if self.store.current_name() != handle.name:
                self._use(None)
                return
            if handle.reopened:
                self._damaged[handle.opened.generation] = str(exc)
                self._use(None)
                return
            self._use(None)
            try:
                fresh = open_generation(self.store, handle.name, self.config, self._damaged)
            except IndexDamaged as again:  # no generation opens: the retry reports it
                self._damaged[handle.opened.generation] = str(again)
                return
            self._use(_Handle(handle.name, fresh, reopened=True))

    def search(self, query: str = "", limit: int | None = None, context: int | None = None, field: str | None = None,
               snippets: int | None = None, filters: Filters | None = None, *, since: str | None = None,
               until: str | None = None, source: str | None = None, category: str | None = None,
               sort: str = "relevance", explain: bool = False, like: str | None = None,
               exact: bool = False, offset: int = 0, facets: Sequence[str] = (), author: str | None = None) -> SearchResults:
        """Search: articles with every word first, then those with some of them (`all_words` counts
        the first; `fallback` says no article has every word). `+word` and AND require, -word excludes.

        Keyword options mirror the CLI: `since`/`until` (YYYY, YYYY-MM or YYYY-MM-DD, inclusive),
        `source`, `category`, `author` (a whole name, case aside), `sort` ("relevance" or "date", newest
        first), `explain` (per field and term score contributions), `like` (articles similar to that
        article id, instead of a query),
        `exact` (no did-you-mean correction of words the index lacks), `offset` (hits skipped, for
        paging: ranks start at offset + 1), `facets` (any of "category", "source", "year", "author": the
        matching articles counted per value, in `results.facets`). Wrong argument types raise
        TypeError, values out of range QueryError (a ValueError is never raised from the index).
        """
        _check_types(query=(query, str), limit=(limit, int, None), context=(context, int, None),
                     field=(field, str, None), snippets=(snippets, int, None), filters=(filters, Filters, None),
                     since=(since, str, None), until=(until, str, None), source=(source, str, None),
                     category=(category, str, None), sort=(sort, str), explain=(explain, bool),
                     like=(like, str, None), exact=(exact, bool), offset=(offset, int), facets=(facets, tuple, list),
                     author=(author, str, None))
        limit = self.config.limit if limit is None else limit
        context = self.config.context if context is None else context
        snippet_count = self.config.snippets if snippets is None else snippets
        _check_options(limit, context, snippet_count, field, sort)
        _check_page(offset, limit, facets)
        filters = _filters(filters, since, until, source, category, author)
        return self._attempt(lambda handle: self._search(handle, query, limit, context, field, snippet_count, filters,
                                                         sort, explain, like, exact, offset, tuple(facets)))

    def article(self, article_id: str) -> Article | None:
        """The whole stored article with that id (looked up in the index, never opened as a path), or None."""
        _check_types(article_id=(article_id, str))

        def fetch(handle: _Handle) -> Article | None:
            if not supports(handle.index, "article"):
                raise QueryError(f"the {handle.opened.engine} engine cannot fetch an article by id")
            with handle.engine_lock:
                return handle.index.article(article_id)

        return self._attempt(fetch)

    def serving(self) -> Serving:
        """Which generation answers searches now and how many articles it holds (for health checks)."""
        def look(handle: _Handle) -> Serving:
            with handle.engine_lock:
                articles = handle.index.doc_count()
            return Serving(handle.name, handle.opened.generation, handle.opened.engine, articles, handle.opened.warning)

        return self._attempt(look)

    def _attempt(self, work: Callable[[_Handle], T]) -> T:
        """`work` on the serving generation, tried again after a switch, a re-open, or a damaged
        generation set aside (see `_after_read_error`)."""
        for attempt in range(SEARCH_ATTEMPTS):
            handle = self._acquire()
            try:
                return work(handle)
            except IndexDamaged as exc:
                if attempt + 1 == SEARCH_ATTEMPTS:
                    raise
                self._after_read_error(handle, exc)
            finally:
                self._release(handle)
        raise AssertionError("unreachable")

    def _search(self, handle: _Handle, query: str, limit: int, context: int, field: str | None, snippet_count: int,
                filters: Filters, sort: str, explain: bool, like: str | None, exact: bool, offset: int = 0,
                facets: tuple[str, ...] = ()) -> SearchResults:
        """One search on an open generation: the engine under its lock, then snippets outside it.

        Paging asks the engine for `offset + limit` hits and keeps the last `limit`: ranks and ties
        stay those of one long list, and only the hits shown get snippets."""
        index, engine_name = handle.index, handle.opened.engine
        if facets and not supports(index, "facets"):
            raise QueryError(f"facets are not supported by the {engine_name} engine")
        if filters.author and "authors" not in index.searchable:
            raise QueryError(f"generation {handle.opened.generation} was built before authors were stored, so it cannot "
                             f"filter by author; rebuild it with: {self.store.rebuild_command()}")
        limit += offset
        with handle.engine_lock:
            if like is not None:
                if query.strip():
                    raise QueryError("give either a query or --like ARTICLE_ID, not both")
                parsed = self._like(index, engine_name, like)
                filters = replace(filters, exclude_ids=(*filters.exclude_ids, like))
            else:
                parsed = parse(query)
            if field:
                parsed = ParsedQuery(parsed.text, restrict(parsed.root, field), parsed.plain_words)
            weights, by_date = self.config.weights, sort == "date"
            if explain and not supports(index, "explain"):
                raise QueryError(f"--explain is not supported by the {engine_name} engine")
            ranker = self._ranker(handle) if not (explain or by_date or like is not None) else None
            depth = limit
            if ranker is not None:
                from .semantic import DEPTH, plain_words

                ranker, depth = (ranker, max(limit, DEPTH)) if plain_words(parsed) else (None, limit)

            def run(tree: ParsedQuery) -> Ranked:
                # prefix and fuzzy words expanded once, here: matching and highlighting use the same terms
                expanded = replace(tree, root=expand(tree.root, index))
                return all_words_first(index, expanded, weights, depth, filters, by_date, explain)

            found: Suggestion | None = None
            can_correct = not exact and like is None and supports(index, "similar_terms")
            fixed = corrected(parsed, index) if can_correct else None
            if fixed is not None:
                ranked = run(fixed.query)
                if ranked.page.total:
                    texts = [t for h in ranked.page.hits[:3] for t in (h.article.headline, *h.article.body)]
                    found = suggestion(parsed.text, fixed, texts)
            if found is None:
                ranked = run(parsed)
            page, searched = ranked.page, ranked.searched
            if ranker is not None and page.total:
                page = self._fuse(index, ranker, parsed.text, page, limit, bool(filters))  # the model reads typos well
            counts = index.facets(searched.root, weights, filters, facets, FACET_VALUES) if facets else None
        matches = TermMatcher(searched.root)
        evidence = ranked.evidence
        hits = tuple(_hit(h, rank, matches, snippet_count, context, evidence.get(h.article.id))
                     for rank, h in enumerate(page.hits[offset:], start=offset + 1))
        warning = handle.opened.warning or (handle.semantic[1] if handle.semantic else None)
        return SearchResults(parsed.text, page.total, ranked.fallback, hits, handle.opened.generation, parsed.plain_words,
                             found, warning, offset, counts, ranked.all_words)

    def _ranker(self, handle: _Handle) -> SemanticRanker | None:
        """The semantic ranker of the answering generation, if it has vectors and semantic ranking is on.

        Checked by file first: neither numpy nor the model is loaded for an index without vectors.
        Looked up once per open generation.
        """
        with handle.semantic_lock:
            if handle.semantic is None:
                path = self.store.root / handle.opened.generation
                ranker, warning = None, None
                if self.config.semantic != "off" and (path / VECTOR_IDS).is_file():
                    from indexer.vectors import semantic_enabled

                    from .semantic import SemanticRanker

                    try:
                        ranker = SemanticRanker.open(path, self.config.model_dir) if semantic_enabled(self.config) else None
                    except ArticleSearchError as exc:  # a missing model with semantic = on, damaged vectors
                        warning = f"{exc}; ranking by the words only"
                handle.semantic = (ranker, warning)
            return handle.semantic[0]

    @staticmethod
    def _fuse(index: EngineIndex, ranker: SemanticRanker, text: str, lexical: EnginePage, limit: int,
              filtered: bool) -> EnginePage:
        """Lexical and semantic rankings fused (query.semantic); with filters, or an engine that cannot
        fetch an article by id, only the articles the engine found take part."""
        from .semantic import DEPTH, fuse

        can_fetch = supports(index, "article") and not filtered
        admits = None if can_fetch else {h.article.id for h in lexical.hits}.__contains__

        def fetch(doc_id: str) -> EngineHit | None:
            article = index.article(doc_id) if can_fetch else None
            return EngineHit(article, 0.0) if article is not None else None

        return fuse(lexical, ranker.nearest(text, DEPTH, admits), limit, fetch)

    def _like(self, index: EngineIndex, engine_name: str, article_id: str) -> ParsedQuery:
        if not supports(index, "article"):
            raise QueryError(f"--like is not supported by the {engine_name} engine")
        article = index.article(article_id)
        if article is None:
            raise QueryError(f"no article with id {article_id!r} in the index")
        from .like import like_query  # only --like needs it: keeps `search` start-up short

        root = like_query(article, self.config.weights, index)
        if root is None:
            raise QueryError(f"article {article_id!r} has no words to look for")
        return ParsedQuery(f"like:{article_id}", root)

    def close(self) -> None:
        """Close the open generation once the searches running on it are done."""
        with self._lock:
            self._use(None)

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def search(query: str = "", limit: int | None = None, index: Path | str | None = None, **options: Any) -> SearchResults:
    """Search once, with the configured defaults (`limit` and the rest from search.toml), as the
    `search` command does. With no `index`, the configured one is used; the default index is built
    from the corpus if missing (see `indexer.config.builds_on_first_use`).

    Options: as `Searcher.search` (context, field, snippets, since, until, source, category, sort,
    explain, like, exact)."""
    from indexer.config import builds_on_first_use

    config = load_config()
    with Searcher(index, config, build_if_missing=index is None and builds_on_first_use(config)) as searcher:
        return searcher.search(query, limit=limit, **options)


def _check_types(**arguments: tuple[Any, ...]) -> None:
    """TypeError at the call for an argument of the wrong type (name=(value, allowed types...);
    None among them allows None). A bool is not accepted as a number."""
    for name, (value, *allowed) in arguments.items():
        if value is None and None in allowed:
            continue
        types = tuple(t for t in allowed if t is not None)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            wanted = " or ".join(("None" if t is None else t.__name__) for t in allowed)
            raise TypeError(f"{name} must be {wanted}, not {type(value).__name__}")


def _check_options(limit: int, context: int, snippet_count: int, field: str | None, sort: str) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
    if context < 0 or snippet_count < 0:
        raise QueryError("context and snippets must not be negative")
    if field is not None and field not in SEARCH_FIELDS:
        raise QueryError(f"unknown field {field!r}; choose one of: {', '.join(SEARCH_FIELDS)}")
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}; choose one of: {', '.join(SORTS)}")


def _check_page(offset: int, limit: int, facets: Sequence[str]) -> None:
    if not 0 <= offset <= MAX_LIMIT - limit:
        raise QueryError(f"offset must be between 0 and {MAX_LIMIT} minus the limit (the first {MAX_LIMIT:,} hits can be paged)")
    for name in facets:
        if name not in FACETS:
            raise QueryError(f"unknown facet {name!r}; choose from: {', '.join(FACETS)}")


def _hit(hit: EngineHit, rank: int, matches: TermMatcher, snippet_count: int, context: int, found: Found | None) -> Hit:
    """An engine hit as the query layer shows it: highlights and snippets (`found`: its matching
    words, when the ranking found them)."""
    article = hit.article
    return Hit(
        id=article.id, path=article.path, line=article.line, headline=article.headline,
        headline_highlights=mark(article.headline, matches)[1], score=hit.score, date=article.date,
        source=article.source, categories=article.categories,
        snippets=make_snippets(article, matches, snippet_count, context, found.sections if found else None),
        rank=rank, explanation=hit.explanation, authors=article.authors,
    )


def _filters(base: Filters | None, since: str | None, until: str | None, source: str | None,
             category: str | None, author: str | None = None) -> Filters:
    """The keyword options as engine `Filters`, dates checked, on top of any given `Filters`."""
    base = base or Filters()
    since, until = _date(since, "since"), _date(until, "until")
    if since and until and since > until:
        raise QueryError(f"--since {since} is after --until {until}")
    return replace(
        base, since=since or base.since, until=until or base.until,
        source=source.lower() if source else base.source, category=category.lower() if category else base.category,
        author=author or base.author,
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
