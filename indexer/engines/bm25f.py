"""BM25F over dense per-document arrays: the ranking function, kept apart from any engine's storage.

Summing one BM25 score per field (whoosh's "BM25F") saturates each field on its own, so a word
repeated in headline and body counts twice and field weights distort scores. True BM25F (Robertson
& Zaragoza 2009) first combines a term's weighted, length-normalised frequencies across fields and
saturates once:

    tf~(t, d) = sum_f  w_f * tf(t, f, d) / (1 - b + b * len(f, d) / avglen(f))
    score(d)  = sum_t  boost_t * idf(t) * tf~ * (k1 + 1) / (k1 + tf~)

Weights enter at query time, so changing them needs no rebuild. Any engine that can hand out a
term's postings per field and each document's field lengths can score with this module; the others
score the same words (`scored_terms`) with the closest equivalent they offer (see indexer.engines.tantivy
and indexer.engines.opensearch).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping, NamedTuple, Sequence

from ..query_tree import SEARCH_FIELDS, Node, Phrase, positive_leaves
from . import Contribution

if TYPE_CHECKING:  # numpy is imported where scores are computed: tantivy and OpenSearch searches never need it
    import numpy as np

K1 = 1.2  # saturation: measured on SciFact train and the BBC known items (bench/relevance.py)
B = 0.75  # length normalisation, the same for every field


class TermStats(NamedTuple):
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
    return math.log(1.0 + (doc_count - doc_frequency + 0.5) / (doc_frequency + 0.5))


def combined_tf(term: TermStats, weights: dict[str, float], norms: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
    """Per field, the weighted normalised frequency of the term in every document (dense arrays)."""
    import numpy as np

    parts: dict[str, np.ndarray] = {}
    for field, (ids, tfs) in term.postings.items():  # ids may repeat (expansions of a prefix): they add up
        parts[field] = np.bincount(ids, weights=weights[field] * tfs / norms[field][ids], minlength=size)
    return parts


#: Per term, its score in each document split over fields (arrays or lists, indexed by document).
Shares = list[tuple[str, dict[str, "np.ndarray | list[float]"]]]


def score(terms: list[TermStats], weights: dict[str, float], norms: dict[str, np.ndarray], size: int,
          doc_count: int, explain: bool = False, k1: float = K1) -> tuple[np.ndarray, Shares]:
    """BM25F scores of all documents; with `explain`, each term's score split over fields by tf share."""
    import numpy as np

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


def explanation(shares: Shares, docnum: int) -> tuple[Contribution, ...]:
    """A document's score split over terms and fields (from `score(..., explain=True)`)."""
    return tuple(
        Contribution(field, term, float(parts[docnum]))
        for term, by_field in shares for field, parts in by_field.items() if parts[docnum] > 0
    )


ScoredTerm = tuple[str, float, dict[str, tuple[str, ...]]]


def rescore(counts: Sequence[Mapping[str, Mapping[str, int]]], lengths: Sequence[Mapping[str, int]], root: Node,
            weights: Mapping[str, float], averages: Mapping[str, float], frequencies: Mapping[str, int],
            doc_count: int, explain: bool = False, k1: float = K1) -> tuple[list[float], Shares]:
    """Exact BM25F scores of a few documents from their term frequencies and lengths per field, with
    the index's average field lengths and document frequencies (of each index term): what an engine
    scoring SECTIONS cannot compute, for the best hits it found. The same formula as `score`, in plain
    Python: a few dozen documents, and a tantivy or OpenSearch search never imports numpy."""
    fields = [f for f in SEARCH_FIELDS if (weights.get(f) or 0) > 0 and averages.get(f)]
    norms = {f: [1.0 - B + B * doc.get(f, 0) / averages[f] for doc in lengths] for f in fields}
    totals = [0.0] * len(counts)
    details: Shares = []
    for label, boost, by_field in scored_terms(root, fields):
        parts = {f: [float(weights.get(f) or 1.0) * sum(doc.get(f, {}).get(t, 0) for t in terms) / norms[f][n]
                     for n, doc in enumerate(counts)] for f, terms in by_field.items()}
        # a prefix or fuzzy word's articles: at least those of its commonest expansion
        frequency = max((frequencies.get(t, 0) for terms in by_field.values() for t in terms), default=0)
        weight = boost * idf(frequency, doc_count)
        term_scores = []
        for n in range(len(counts)):
            tf = sum(part[n] for part in parts.values())
            term_scores.append(weight * tf * (k1 + 1) / (k1 + tf) if tf > 0 else 0.0)
            totals[n] += term_scores[n]
        if explain:
            details.append((label, {f: [part[n] / tf * term_scores[n] if (tf := sum(p[n] for p in parts.values())) else 0.0
                                        for n in range(len(counts))] for f, part in parts.items()}))
    return totals, details


def scored_terms(root: Node, fields: Sequence[str]) -> list[ScoredTerm]:
    """(label, boost, {field: index terms}) per distinct positive word of the query: what scores,
    apart from which articles match (NOT branches match but never score).

    A field-less word is scored in `fields`, a word given a field in that field. Phrases score by
    their words. A prefix or fuzzy word scores as one term whose frequencies add up over its
    expansions, so that one rare expansion cannot outweigh the word typed. A word repeated in the
    query scores once, with its highest boost.
    """
    seen: dict[tuple[str, tuple[str, ...]], tuple[float, dict[str, tuple[str, ...]]]] = {}
    for leaf in positive_leaves(root):
        leaf_fields = [leaf.field] if leaf.field else list(fields)
        if isinstance(leaf, Phrase):
            words = [(t, leaf.boost, {f: (t,) for f in leaf_fields}) for t in leaf.terms]
        else:
            words = [(leaf.label, leaf.boost, {f: leaf.index_terms() for f in leaf_fields})]
        for label, boost, by_field in words:
            key = (label, tuple(leaf_fields))
            seen[key] = (max(seen.get(key, (0.0, {}))[0], boost), by_field)
    return [(label, boost, by_field) for (label, _), (boost, by_field) in seen.items()]


# -- BM25F in one field, for engines without a scoring hook (tantivy, OpenSearch) ------------------
#
# An engine that cannot combine a term's frequencies across fields at query time gets the same
# effect from one more field, SECTIONS, that repeats each field's terms as many times as the field's
# weight: a term's frequency there is its weighted frequencies added up, the length the weighted
# lengths added up, and the engine's own BM25 saturates once ("simple BM25F", Robertson & Zaragoza
# 2009, section 3.3). Weights are then fixed when the index is built: other weights at search time
# need a rebuild (engines fall back to adding up per-field scores meanwhile).

SECTIONS = "sections"


def folded_weights(weights: Mapping[str, float]) -> dict[str, int]:
    """Field weights as the times SECTIONS repeats each field's terms: whole numbers, a weighted field
    at least once (the default captions weight 0.5 counts once), a field weighted 0 not at all (it is
    not searched, as on the whoosh engine)."""
    def times(field: str) -> int:
        weight = float(weights.get(field) or 0)
        return max(1, int(weight + 0.5)) if weight > 0 else 0

    return {field: times(field) for field in SEARCH_FIELDS}


def folds(folded: Mapping[str, int] | None, weights: Mapping[str, float]) -> bool:
    """Whether an index that folded `folded` into SECTIONS scores these weights: the same whole numbers
    for every field it folded (an index built before authors were stored folded none for them)."""
    return folded is not None and dict(folded) == {f: t for f, t in folded_weights(weights).items() if f in folded}


def field_lengths(sections: Mapping[str, str]) -> dict[str, int]:
    """Each field's length in analysed terms (`sections`: an article's analysed fields), for the fields
    that have any: what tantivy and OpenSearch record for exact BM25F (averages are over the articles
    that have the field, as `length_norm` takes them). The terms are joined by single spaces, so
    counting the spaces counts them without splitting the text into a list."""
    return {name: terms.count(" ") + 1 for name, terms in sections.items() if terms}


def folded_text(sections: Mapping[str, str], folded: Mapping[str, int]) -> str:
    """An article's SECTIONS text: each field's analysed terms repeated as its folded weight says."""
    return " ".join(terms for name, terms in sections.items() if terms for _ in range(folded.get(name, 0)))


def split_sections(parts: Iterable[tuple[str, str, str, float]], sections: Mapping[str, str],
                   folded: Mapping[str, int]) -> Iterator[tuple[str, str, float]]:
    """(field, label, score) parts of a hit's score from (field, label, index term, score) ones: a
    part scored in SECTIONS is split over the fields as the term's weighted frequencies make it up
    (`sections`: the hit's analysed fields), so --explain names real fields on every engine."""
    counts = {name: terms.split() for name, terms in sections.items()}
    for field, label, term, value in parts:
        if field != SECTIONS:
            yield field, label, value
            continue
        shares = {name: folded.get(name, 0) * words.count(term) for name, words in counts.items()}
        whole = sum(shares.values())
        if whole:
            yield from ((name, label, value * share / whole) for name, share in shares.items() if share)


def weighted_terms(root: Node, weights: Mapping[str, float]) -> Iterator[tuple[str, str, str, float]]:
    """(field, label, index term, weight) of each term an engine with SECTIONS scores: a field-less
    word in SECTIONS (its field weights folded in already), a word given a field in that field,
    weighted by it; times the word's own boost."""
    for label, boost, by_field in scored_terms(root, (SECTIONS,)):
        for field, terms in by_field.items():
            weight = boost * (1.0 if field == SECTIONS else float(weights.get(field) or 1.0))
            for term in terms:
                yield field, label, term, weight
