"""BM25F over dense per-document arrays: the ranking function, kept apart from any engine's storage.

Summing one BM25 score per field (whoosh's "BM25F") saturates each field on its own, so a word
repeated in headline and body counts twice and field weights distort scores. True BM25F (Robertson
& Zaragoza 2009) first combines a term's weighted, length-normalised frequencies across fields and
saturates once:

    tf~(t, d) = sum_f  w_f * tf(t, f, d) / (1 - b + b * len(f, d) / avglen(f))
    score(d)  = sum_t  boost_t * idf(t) * tf~ * (k1 + 1) / (k1 + tf~)

Weights enter at query time, so changing them needs no rebuild. Any engine that can hand out a
term's postings per field and each document's field lengths can score with this module.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

K1 = 1.2  # saturation: measured on SciFact train and the BBC known items (bench/relevance.py)
B = 0.75  # length normalisation, the same for every field


@dataclass(frozen=True)
class TermStats:
    """One query term's postings in each field: document numbers and term frequencies (a prefix or
    fuzzy word's expansions concatenated)."""

    term: str
    boost: float
    postings: dict[str, tuple[np.ndarray, np.ndarray]]


def length_norm(lengths: np.ndarray, b: float = B) -> np.ndarray:
    """1 - b + b * len / avglen, the average taken over documents that have the field."""
    present = lengths[lengths > 0]
    average = float(present.mean()) if present.size else 1.0
    return 1.0 - b + b * lengths / average


def idf(doc_frequency: int, doc_count: int) -> float:
    """Lucene's BM25 idf: never negative, even for words in most documents."""
    return float(np.log(1.0 + (doc_count - doc_frequency + 0.5) / (doc_frequency + 0.5)))


def combined_tf(term: TermStats, weights: dict[str, float], norms: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
    """Per field, the weighted normalised frequency of the term in every document (dense arrays)."""
    parts: dict[str, np.ndarray] = {}
    for field, (ids, tfs) in term.postings.items():  # ids may repeat (expansions of a prefix): they add up
        parts[field] = np.bincount(ids, weights=weights[field] * tfs / norms[field][ids], minlength=size)
    return parts


Shares = list[tuple[str, dict[str, np.ndarray]]]


def score(terms: list[TermStats], weights: dict[str, float], norms: dict[str, np.ndarray], size: int,
          doc_count: int, explain: bool = False, k1: float = K1) -> tuple[np.ndarray, Shares]:
    """BM25F scores of all documents; with `explain`, each term's score split over fields by tf share."""
    total = np.zeros(size)
    details: Shares = []
    for term in terms:
        parts = combined_tf(term, weights, norms, size)
        if not parts:
            continue
        tf = np.sum(list(parts.values()), axis=0)
        present = tf > 0
        weight = term.boost * idf(int(present.sum()), doc_count)
        term_score = np.zeros(size)
        term_score[present] = weight * tf[present] * (k1 + 1) / (k1 + tf[present])
        total += term_score
        if explain:
            details.append((term.term, {f: np.divide(p, tf, out=np.zeros(size), where=present) * term_score
                                        for f, p in parts.items()}))
    return total, details
