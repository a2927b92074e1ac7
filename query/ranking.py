"""Articles with every query word first, the page filled with the best partial matches: the one
ranking every engine shares.

Cutting the answer to the articles with every word (as before) left 1-5 hits for many real queries,
and the article looked for was often among the partial matches never shown (bench/RELEVANCE.md:
the "fill" variant). Now two engine searches rank the articles: the query as typed, then its
any-word relaxation (`ParsedQuery.relaxed`: `+word`, `AND` and `-word` keep requiring and excluding)
for the rest of the page. Doing it here, not in each engine, keeps one code path and each engine's
own scores: an article with every word ranks above one with some of them, whatever their scores.
"""
from __future__ import annotations

from typing import Mapping, NamedTuple, Sequence

from indexer.engines import EngineHit, EngineIndex, EnginePage, Filters, bm25f
from indexer.query_tree import SEARCH_FIELDS

from .evidence import Found, found_in
from .proximity import RERANKED, by_best_sentence, query_words
from .syntax import ParsedQuery, TermMatcher


class Ranked(NamedTuple):
    """An engine page in the shared order, and what it holds.

    `page.total` counts every article the ranking lists (with any of the words when the query could
    be relaxed); `all_words` those with every word, which come first; `fallback` is True when no
    article has every word (the page then lists articles with some of them). `searched` is the
    query whose matches `page.total` counts (facets count the same articles). `evidence`: the matching
    words of the best hits, by article id, found while reordering them (their snippets reuse them: the
    query and its relaxation have the same words, so one `TermMatcher` serves both).
    """

    page: EnginePage
    searched: ParsedQuery
    fallback: bool
    all_words: int
    evidence: Mapping[str, Found]


def all_words_first(index: EngineIndex, query: ParsedQuery, weights: Mapping[str, float], depth: int,
                    filters: Filters | None = None, by_date: bool = False, explain: bool = False) -> Ranked:
    """The best `depth` articles: those with every word, best first, then those with some of them;
    by relevance, the best RERANKED of each group reordered by their best sentence (query.proximity).
    Sorted by date (newest first): only the articles with every word, when there are any. The
    any-word search is needed for the page only when fewer than `depth` articles have every word;
    otherwise it only counts them."""
    options = {"explain": True} if explain else {}
    scored = _reordered_by(index, query, weights, by_date)
    wanted = max(depth, RERANKED) if scored else depth  # reordering needs the same articles whatever the page
    strict = index.search(query.root, weights, wanted, filters, by_date, **options)
    relaxed = query.relaxed()
    if relaxed is None or (by_date and strict.total):
        # newest first means one date order: the articles with every word, not a second, partial list
        page, evidence = _reordered(index, query, weights, strict, (), depth, scored, explain)
        return Ranked(page, query, False, strict.total, evidence)
    missing = wanted - len(strict.hits)
    wide = index.search(relaxed.root, weights, wanted if missing > 0 else 1, filters, by_date, **options)
    if strict.total == 0:
        page, evidence = _reordered(index, relaxed, weights, wide, (), depth, scored, explain)
        return Ranked(page, relaxed, True, 0, evidence)
    shown = {hit.article.id for hit in strict.hits}
    partial = tuple(hit for hit in wide.hits if hit.article.id not in shown)[:max(missing, 0)]
    page, evidence = _reordered(index, query, weights, EnginePage(wide.total, strict.hits), partial, depth, scored, explain)
    return Ranked(page, relaxed, False, strict.total, evidence)


def _reordered_by(index: EngineIndex, query: ParsedQuery, weights: Mapping[str, float],
                  by_date: bool) -> list[bm25f.ScoredTerm] | None:
    """The query's scored words when its best hits are reordered, else None: sorted by date, or one
    word (no sentence bonus to give) on an engine whose scores are exact already, the engine's order
    stands."""
    scored = bm25f.scored_terms(query.root, [f for f in SEARCH_FIELDS if (weights.get(f) or 0) > 0])
    return scored if not by_date and (len(scored) > 1 or index.field_averages()) else None


def _reordered(index: EngineIndex, query: ParsedQuery, weights: Mapping[str, float], first: EnginePage,
               then: tuple[EngineHit, ...], depth: int, scored: list[bm25f.ScoredTerm] | None,
               explain: bool) -> tuple[EnginePage, dict[str, Found]]:
    """`first`'s hits then `then`, cut to `depth`; with `scored` (`_reordered_by`), the best RERANKED
    scored by exact BM25F (where the engine scores it approximately) and reordered by their best
    sentence, each group on its own (the articles with every word stay first). With the page, the
    matching words found in the reordered hits, by article id."""
    hits, evidence = first.hits + then, {}
    if scored and len(hits) > 1:
        pool, split = hits[:RERANKED], len(first.hits)
        matcher = TermMatcher(query.root)
        found = [found_in(hit.article, matcher, index.searchable) for hit in pool]
        evidence = {hit.article.id: words for hit, words in zip(pool, found)}
        frequencies = index.doc_frequencies(sorted({t for _, _, by_field in scored for terms in by_field.values() for t in terms}))
        pool = exact_bm25f(index, query, weights, pool, found, frequencies, explain)
        words, top = query_words(scored, frequencies, index.doc_count()), max(hit.score for hit in pool)
        hits = (*by_best_sentence(pool[:split], found[:split], words, top, explain),
                *by_best_sentence(pool[split:], found[split:], words, top, explain), *hits[RERANKED:])
    return EnginePage(first.total, tuple(hits[:depth])), evidence


def exact_bm25f(index: EngineIndex, query: ParsedQuery, weights: Mapping[str, float], hits: Sequence[EngineHit],
                found: Sequence[Found], frequencies: Mapping[str, int], explain: bool) -> tuple[EngineHit, ...]:
    """On an engine that scores BM25F approximately (one SECTIONS field: its length normalisation is of
    all fields together), the hits with the exact BM25F scores whoosh gives them: the term frequencies
    counted in the matching words `found`, the lengths the index recorded (`EngineIndex.field_averages`),
    `frequencies` the query terms' document frequencies; the order is made by the caller. SciFact train
    nDCG@10 on tantivy: 0.708 -> 0.710 (bench/RELEVANCE.md)."""
    averages = index.field_averages()
    lengths = [hit.lengths for hit in hits]
    if not averages or not hits or None in lengths:  # every hit of such an index carries its lengths
        return tuple(hits)
    counts = [{section: words.counts(section) for section in words.sections} for words in found]
    scores, shares = bm25f.rescore(counts, lengths, query.root, weights, averages, frequencies, index.doc_count(), explain)
    return tuple(hit._replace(score=float(scores[n]), explanation=bm25f.explanation(shares, n) if explain else ())
                 for n, hit in enumerate(hits))
