"""The engine-neutral query tree: what `query.syntax` parses a query into and every engine translates.

Leaves hold analysed index terms (the index's own stems) and keep what the user typed (`typed`) and
whether it was quoted, for messages and highlighting. Engines import this module only, never the
parser, so the indexer does not depend on the query layer.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from dataclasses import field as attribute
from typing import Callable, Iterable, Iterator, Sequence, Union

from .analysis import NATIVE_WITHIN_EDITS
from .models import SECTIONS

SEARCH_FIELDS: tuple[str, ...] = SECTIONS


@dataclass(frozen=True)
class Term:
    """One index term; `field` None means any searchable field.

    `fuzzy` (edits) and `prefix` make the leaf stand for several index terms; `query.expansion`
    resolves them to `expanded` once, over the engine's term list, before an engine sees the tree.
    """

    term: str
    field: str | None = None
    fuzzy: int = 0
    prefix: bool = False
    boost: float = 1.0  # relative weight of the term in the score (`^N`, and --like's weighted queries)
    expanded: tuple[str, ...] | None = None  # the index terms a prefix / fuzzy word stands for, once resolved
    typed: str = attribute(default="", compare=False)  # the word as the user typed it
    quoted: bool = attribute(default=False, compare=False)

    @property
    def expanding(self) -> bool:
        return bool(self.prefix or self.fuzzy)

    def index_terms(self) -> tuple[str, ...]:
        """The index terms this leaf matches (an unresolved prefix or fuzzy word matches none)."""
        if self.expanding:
            return self.expanded or ()
        return (self.term,)

    @property
    def label(self) -> str:
        """How --explain names the word: its term, prefix* or fuzzy~."""
        return self.term + ("*" if self.prefix else "~" if self.fuzzy else "")


@dataclass(frozen=True)
class Phrase:
    """Words in this order; `slop` lets them stand up to that many positions apart (Lucene's "a b"~N)."""

    terms: tuple[str, ...]
    field: str | None = None
    slop: int = 0
    boost: float = 1.0
    typed: str = attribute(default="", compare=False)
    quoted: bool = attribute(default=True, compare=False)

    @property
    def label(self) -> str:
        return '"' + " ".join(self.terms) + '"'


def within_slop(positions: Sequence[Sequence[int]], slop: int) -> bool:
    """Whether a phrase's words (their positions in a field, one list per word in phrase order) stand
    within `slop` moves of the phrase somewhere, as Lucene and tantivy count them: each occurrence's
    position less its place in the phrase, the spread of one occurrence per word at most `slop`.
    So `"a b"~1` matches "a x b", and "b a" needs ~2 (each word moves once). One occurrence may serve
    a word repeated in the phrase.
    """
    offsets = [sorted(p - place for p in found) for place, found in enumerate(positions)]
    if not offsets or not all(offsets):
        return False
    heap = [(word[0], i, 0) for i, word in enumerate(offsets)]  # the lowest offset not yet passed, per word
    heapq.heapify(heap)
    highest = max(word[0] for word in offsets)
    while True:  # the smallest spread is found by always moving the lowest word forward
        lowest, i, j = heap[0]
        if highest - lowest <= slop:
            return True
        if j + 1 == len(offsets[i]):
            return False
        heapq.heapreplace(heap, (offsets[i][j + 1], i, j + 1))
        highest = max(highest, offsets[i][j + 1])


@dataclass(frozen=True)
class And:
    """Every item must match (a NOT item must not)."""

    items: tuple["Node", ...]
    implicit: bool = True  # words side by side, not an explicit AND: may relax to any-word


@dataclass(frozen=True)
class Or:
    """Any item may match."""

    items: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    """The item must not match."""

    item: "Node"


Node = Union[Term, Phrase, And, Or, Not]
Leaf = Union[Term, Phrase]
LeafMap = Callable[[Leaf], Leaf]


def required(node: Node) -> Node:
    """`+word`, `+"phrase"`, `+(group)`: a one-item explicit AND, which no relaxation to any-word
    makes optional (engines read it as the item itself)."""
    return node if is_required(node) else And((node,), implicit=False)


def is_required(node: Node) -> bool:
    """Whether the node was marked required (`required`)."""
    return isinstance(node, And) and not node.implicit and len(node.items) == 1


def leaves(node: Node) -> Iterator[Leaf]:
    """Every term and phrase of the tree, NOT branches included."""
    if isinstance(node, (Term, Phrase)):
        yield node
    elif isinstance(node, Not):
        yield from leaves(node.item)
    else:
        for item in node.items:
            yield from leaves(item)


def positive_leaves(node: Node) -> Iterator[Leaf]:
    """The terms and phrases a matching document may contain (NOT branches excluded)."""
    if isinstance(node, (Term, Phrase)):
        yield node
    elif isinstance(node, (And, Or)):
        for item in node.items:
            yield from positive_leaves(item)


def transform(node: Node, leaf: LeafMap) -> Node:
    """The same tree with every leaf replaced by `leaf(it)`."""
    if isinstance(node, (Term, Phrase)):
        return leaf(node)
    if isinstance(node, Not):
        return Not(transform(node.item, leaf))
    if isinstance(node, And):
        return And(tuple(transform(i, leaf) for i in node.items), node.implicit)
    return Or(tuple(transform(i, leaf) for i in node.items))


def restrict(node: Node, field_name: str) -> Node:
    """The same tree with every field-less leaf limited to one field (the --field option, `field:(...)`)."""
    return transform(node, lambda leaf: leaf if leaf.field else replace(leaf, field=field_name))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance (a transposition is two edits), giving up early past `limit` (any number
    above it then). A start and an end the words share are left out first: they change no distance,
    and did-you-mean compares a word with thousands of terms of its first letter (2-3x faster)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    start, end_a, end_b = 0, len(a), len(b)
    while start < end_a and start < end_b and a[start] == b[start]:
        start += 1
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a, end_b = end_a - 1, end_b - 1
    a, b = a[start:end_a], b[start:end_b]
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def within_edits(term: str, candidates: Iterable[str], max_edits: int) -> list[str]:
    """The candidates, other than `term`, at most `max_edits` edits from it, in their order: counted
    by the native analyzer when installed (did-you-mean reads up to ~8,000 terms: 15 ms in Python)."""
    if NATIVE_WITHIN_EDITS is not None:
        candidates = list(candidates)
        try:
            return [candidates[n] for n in NATIVE_WITHIN_EDITS(term, candidates, max_edits)]
        except UnicodeEncodeError:  # a lone surrogate: a Rust string cannot hold it
            pass
    return python_within_edits(term, candidates, max_edits)


def python_within_edits(term: str, candidates: Iterable[str], max_edits: int) -> list[str]:
    """`within_edits` in Python (the reference). Cheap tests first (length, and letters gained or
    lost: one edit changes at most two), so few words reach the edit distance."""
    letters = set(term)
    return [
        other for other in candidates
        if abs(len(other) - len(term)) <= max_edits and len(letters ^ set(other)) <= 2 * max_edits
        and other != term and edit_distance(term, other, max_edits) <= max_edits
    ]
