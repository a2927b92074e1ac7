"""Prefix and fuzzy words resolved to index terms once, in shared code, the same way on every engine.

A `prefix*` or `word~N` leaf of the query tree stands for several index terms. Before a tree reaches
an engine, `expand` sets each such leaf's `expanded` to those terms, read from the engine's own term
list (`EngineIndex.terms_with_prefix`), so matching, scoring, highlighting and the cap agree on every
engine:

- prefix: every index term starting with the prefix;
- fuzzy: every index term within N edits (Levenshtein: a transposition is two edits), its first
  letter kept, the word itself included when the index has it;
- over the searchable fields, or the leaf's own field;
- at most MAX_EXPANSIONS terms: the most frequent by exact document frequency (ties alphabetical),
  so `co*` keeps "could" (875 BBC articles) rather than the alphabetically first terms.

Terms of deleted articles may stay listed until the engine merges them away; they match nothing.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .query_tree import SEARCH_FIELDS, Leaf, Node, Term, transform, within_edits

if TYPE_CHECKING:
    from .engines import EngineIndex

#: Prefix and fuzzy words expand to at most this many index terms, on every engine.
MAX_EXPANSIONS = 200
_BATCH = 100  # exact doc frequencies asked for at once (one request on a service engine)


def expand(root: Node, index: "EngineIndex") -> Node:
    """The tree with every prefix and fuzzy leaf's `expanded` set (leaves already expanded are kept)."""
    def resolve(leaf: Leaf) -> Leaf:
        if isinstance(leaf, Term) and leaf.expanding and leaf.expanded is None:
            return replace(leaf, expanded=expansions(leaf, index))
        return leaf

    return transform(root, resolve)


def expansions(leaf: Term, index: "EngineIndex", cap: int = MAX_EXPANSIONS) -> tuple[str, ...]:
    """The index terms a prefix or fuzzy leaf stands for, alphabetically (see the module docstring)."""
    fields = (leaf.field,) if leaf.field else SEARCH_FIELDS
    bounds: dict[str, int] = {}  # term -> at least its number of articles (the sum of its fields' counts)
    listed: dict[str, int] = {}  # term -> how many fields list it
    for field in fields:
        if leaf.prefix:
            counts = dict(index.terms_with_prefix(field, leaf.term))
            near = counts.keys()
        else:
            counts = dict(index.terms_with_prefix(field, leaf.term[:1]))
            near = [*within_edits(leaf.term, counts, leaf.fuzzy), *([leaf.term] if leaf.term in counts else [])]
        for term in near:
            bounds[term] = bounds.get(term, 0) + counts[term]
            listed[term] = listed.get(term, 0) + 1
    found = [term for term, bound in bounds.items() if bound > 0]
    if len(found) > cap:
        known = {t: bounds[t] for t in found if listed[t] == 1} if index.counts_exact() else {}
        found = most_frequent(bounds, known, leaf.field, index, cap)
    return tuple(sorted(found))


def most_frequent(bounds: dict[str, int], known: dict[str, int], field: str | None, index: "EngineIndex",
                  cap: int) -> list[str]:
    """The `cap` terms held by the most articles (exact counts; ties alphabetical).

    `bounds` are upper bounds, `known` the exact counts already known (a term one field holds, when
    the engine counts exactly). The other exact counts cost a postings read or a query each, so they
    are asked for in the order of the bounds, and only until no term left can still make the cut: at
    48k articles `co*` lists thousands of terms but needs the exact count of a few hundred.
    """
    order = sorted(bounds, key=lambda term: (-bounds[term], term))
    ranked: list[tuple[int, str]] = []  # (-count, term), best first
    start = 0
    while start < len(order):
        if len(ranked) >= cap and bounds[order[start]] < -ranked[cap - 1][0]:
            break  # every term left is in fewer articles than the last one kept
        batch = order[start:start + max(_BATCH, cap - len(ranked))]
        start += len(batch)
        counts = {**known, **index.doc_frequencies([t for t in batch if t not in known], field)}
        ranked = sorted([*ranked, *((-counts[term], term) for term in batch if counts[term] > 0)])[:cap]
    return [term for _, term in ranked]
