"""Query words in one sentence: the proximity signal that reorders the best articles of a ranking.

BM25F counts a word wherever it stands, so an article that mentions each query word once, in far-apart
paragraphs, scores like one that states the query in a sentence. Here each of the best RERANKED
articles gets a bonus for its best sentence: the share of the query's words (weighted by idf, as BM25
weighs them) found together in one sentence, times SENTENCE_WEIGHT of the top score. Measured on the
dev sets (bench/RELEVANCE.md): SciFact train nDCG@10 +0.003 on whoosh and +0.002 on tantivy, known
items MRR@10 +0.008; a window of words instead of a sentence, the share squared or its root, or only
sentences with two words or more helped less. It works on the articles the engine returns, with the
snippets' sentence matching, so every engine reorders its hits the same way.
"""
from __future__ import annotations

from typing import AbstractSet as Set
from typing import Mapping, NamedTuple, Sequence

from indexer.engines import Contribution, EngineHit, bm25f

from .evidence import Found
from .snippets import sentence_terms

RERANKED = 15  # the best articles of a ranking reordered: 15, 20, 30, 50 and 100 gave the same gain, 10 less (bench/RELEVANCE.md)
SENTENCE_WEIGHT = 0.3  # the bonus of a sentence with every query word, as a share of the top score
EXPLAINED = "words in one sentence"  # the bonus's label in --explain


class _Word(NamedTuple):
    """A scored query word: its index terms (a prefix's expansions), where it may match, its weight."""

    terms: frozenset[str]
    fields: frozenset[str]
    weight: float


def query_words(scored: Sequence[bm25f.ScoredTerm], counts: Mapping[str, int], size: int) -> list[_Word]:
    """The query's positive words (`bm25f.scored_terms`: a phrase by its words), each weighted by its
    boost times its idf (`counts`: the index terms' document frequencies; `size`: the articles)."""
    if len(scored) < 2:
        return []  # one word is in every sentence that has it: nothing to reorder by
    words = []
    for _, boost, by_field in scored:
        terms = frozenset(t for group in by_field.values() for t in group)
        if terms:
            frequency = max(counts.get(t, 0) for t in terms)
            words.append(_Word(terms, frozenset(by_field), boost * bm25f.idf(frequency, size)))
    return words


def best_sentence(found: Found, words: Sequence[_Word]) -> tuple[float, str]:
    """The share of the words' weight in the article's best sentence (0 to 1), and its section."""
    total = sum(w.weight for w in words) or 1.0
    best, where = 0.0, ""
    for section in sorted({f for w in words for f in w.fields}):
        for _, paragraph, matched in found.sections.get(section, ()):
            if _share({term for term, _ in matched}, section, words) <= best:
                continue  # no sentence of the paragraph can do better than the whole paragraph
            for terms in sentence_terms(paragraph, matched):
                if (share := _share(terms, section, words)) > best:
                    best, where = share, section
    return best / total, where


def _share(present: Set[str], section: str, words: Sequence[_Word]) -> float:
    return sum(w.weight for w in words if section in w.fields and not w.terms.isdisjoint(present))


def by_best_sentence(hits: Sequence[EngineHit], found: Sequence[Found], words: Sequence[_Word], top: float,
                     explain: bool = False) -> list[EngineHit]:
    """The hits reordered by score plus the best-sentence bonus, a share of `top` (the best score of
    the ranking); `found`: each hit's matching words. The score a hit shows includes the bonus; equal
    scores are in id order, as engines order them."""
    if len(words) < 2:
        return sorted(hits, key=lambda hit: (-hit.score, hit.article.id))
    scored = []
    for hit, words_found in zip(hits, found):
        share, section = best_sentence(words_found, words)
        bonus = SENTENCE_WEIGHT * top * share
        explanation = (*hit.explanation, Contribution(section, EXPLAINED, bonus)) if explain and bonus else hit.explanation
        scored.append(hit._replace(score=hit.score + bonus, explanation=explanation))
    return sorted(scored, key=lambda hit: (-hit.score, hit.article.id))
