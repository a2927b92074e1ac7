"""More like this: an article's key terms as a weighted any-word query (the --like option)."""
from __future__ import annotations

import math
from collections import Counter
from typing import Mapping, Protocol

from indexer.analysis import terms
from indexer.models import Article

from .syntax import Node, Or, Term

KEY_TERMS = 25  # enough to characterise a news article, few enough to stay fast


class TermCounts(Protocol):
    def doc_count(self) -> int: ...
    def doc_frequency(self, term: str) -> int: ...


def key_terms(article: Article, weights: Mapping[str, float], index: TermCounts, count: int = KEY_TERMS) -> list[tuple[str, float]]:
    """The article's most telling terms: field-weighted frequency times idf, best first."""
    frequency: Counter[str] = Counter()
    for field, texts in (("headline", (article.headline,)), ("bullets", article.bullets),
                         ("body", article.body), ("captions", article.captions)):
        weight = weights.get(field, 1.0)
        for text in texts:
            for term in terms(text):
                frequency[term] += weight
    total = index.doc_count()
    scored = []
    for term, tf in frequency.items():
        df = index.doc_frequency(term)
        if 1 < df < total:  # a term only this article has finds nothing else
            scored.append((term, math.log1p(tf) * math.log(total / df)))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:count]


def like_query(article: Article, weights: Mapping[str, float], index: TermCounts) -> Node | None:
    """Any of the key terms, each boosted by its weight relative to the best; None if it has none."""
    found = key_terms(article, weights, index)
    if not found:
        return None
    best = found[0][1]
    return Or(tuple(Term(term, boost=round(score / best, 3)) for term, score in found))
