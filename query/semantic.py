"""Semantic ranking: the lexical ranking fused with the ranking by meaning (article embeddings).

The engine's top DEPTH and the DEPTH articles whose vectors are closest to the query's are fused
by a convex combination of their scores (Bruch et al., 2023): each list's scores min-max normalised
over the list, an article missing from a list scoring 0 there, the two counting equally (LEXICAL).
Since the lexical list is filled with partial matches (query.ranking) it holds 100 scored articles
for most queries, and this measured on SciFact train nDCG@10 0.756 against 0.745 for reciprocal rank
fusion and 0.703 for the lexical ranking alone; the dev known items MRR@10 0.952 (0.976 with RRF, one
query a rank lower, 0.944 lexical): see bench/RELEVANCE.md.

It applies to plain-word queries sorted by relevance. Query syntax asks for exact matching
(phrases, -word, OR, field:word, word~, prefix*), so those queries, --like, --explain and date
sorting keep the lexical ranking alone. With filters, only articles the engine found (which pass
the filters) are re-ranked.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from indexer.embeddings import Embedder
from indexer.engines import EngineHit, EnginePage
from indexer.vectors import Vectors

from .syntax import And, Node, ParsedQuery, Phrase, Term

DEPTH = 100  # articles taken from each ranking
LEXICAL = 0.5  # the lexical ranking's share of the fused score: the two count equally, nothing tuned


@dataclass
class SemanticRanker:
    """The vectors of one generation and the encoder for queries (loaded once, on first use)."""

    vectors: Vectors
    model_dir: Path
    _embedder: Embedder | None = None

    @classmethod
    def open(cls, generation: Path, model_dir: Path) -> "SemanticRanker | None":
        vectors = Vectors.load(generation)
        return cls(vectors, model_dir) if vectors is not None and len(vectors.ids) else None

    def nearest(self, text: str, depth: int, admits: Callable[[str], bool] | None = None) -> list[tuple[str, float]]:
        """The `depth` articles closest in meaning to the text, with their cosine similarity, best first."""
        if self._embedder is None:
            self._embedder = Embedder(self.model_dir)
        return self.vectors.nearest(self._embedder.embed_query(text), depth, admits)


def plain_words(query: ParsedQuery) -> bool:
    """True for natural-language queries: plain words side by side (the tree before any relaxation).

    A word the analyzer splits ("IL-6", "COVID-19") is a phrase in the tree but a plain word to the
    user: only a phrase in quotes counts as syntax.
    """
    def plain(node: Node, top: bool) -> bool:
        if isinstance(node, Term):
            return node.field is None and not node.fuzzy and not node.prefix
        if isinstance(node, Phrase):
            return node.field is None
        if isinstance(node, And):
            return top and node.implicit and all(plain(i, False) for i in node.items)
        return False  # OR, NOT

    return '"' not in query.text and plain(query.root, True)


def normalised(scored: list[tuple[str, float]]) -> dict[str, float]:
    """Scores mapped onto 0..1 over their list (min-max); all equal: 1 each."""
    if not scored:
        return {}
    low, high = min(s for _, s in scored), max(s for _, s in scored)
    return {doc_id: (score - low) / (high - low) if high > low else 1.0 for doc_id, score in scored}


def fuse(lexical: EnginePage, dense: list[tuple[str, float]], limit: int,
         article: Callable[[str], EngineHit | None]) -> EnginePage:
    """The top `limit` of both rankings by the convex combination of their normalised scores (ties by
    id); `article` fetches a hit that only the dense ranking found. `total` counts the lexical
    matches plus those dense-only articles."""
    words = normalised([(h.article.id, h.score) for h in lexical.hits])
    meaning = normalised(dense)
    scores = {doc_id: LEXICAL * words.get(doc_id, 0.0) + (1 - LEXICAL) * meaning.get(doc_id, 0.0)
              for doc_id in {*words, *meaning}}
    found = {h.article.id: h for h in lexical.hits}
    hits: list[EngineHit] = []
    for doc_id in sorted(scores, key=lambda d: (-scores[d], d)):
        hit = found.get(doc_id) or article(doc_id)
        if hit is not None:
            hits.append(EngineHit(hit.article, scores[doc_id]))
        if len(hits) >= limit:
            break
    return EnginePage(lexical.total + len(meaning.keys() - found.keys()), tuple(hits))
