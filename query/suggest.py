"""Did you mean: replace query words the index lacks (or barely has) by a close, common index term.

Engine-independent: an engine only answers `doc_frequency(term)` and `similar_terms(term, edits)`
(see `indexer.engines.EngineIndex`); the choice of a correction is made here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple, Protocol

from indexer.analysis import WORD_RE, analyze_word

from .syntax import And, Node, Or, ParsedQuery, Term, edit_distance

MAX_EDITS = 2
RARE = 2  # a word in at most this many articles may be a typo of a much commoner one
MIN_COMMON = 3  # a correction must be in at least this many articles ...
RATIO = 20  # ... and in this many times more articles than the word typed
LONG = 7  # words longer than this may carry two typos
EDIT_COST = 100  # a correction one edit further away must be in this many times more articles


class TermIndex(Protocol):
    def doc_frequency(self, term: str) -> int: ...
    def similar_terms(self, term: str, max_edits: int) -> list[tuple[str, int]]: ...


@dataclass(frozen=True)
class Suggestion:
    """The corrected query that was searched instead of the typed one."""

    query: str  # the corrected query text, as shown
    corrections: tuple[tuple[str, str], ...]  # (typed word, searched word)
    also_typed: tuple[str, ...] = ()  # typed words in a few articles: searched as typed as well

    @property
    def message(self) -> str:
        missing = ", ".join(f'"{typed}"' for typed, _ in self.corrections if typed not in self.also_typed)
        rare = ", ".join(f'"{typed}"' for typed in self.also_typed)
        reasons = [f"no results for {missing}"] if missing else []
        reasons += [f"also searched as typed, in very few articles: {rare}"] if rare else []
        return f'Showing results for "{self.query}" ({"; ".join(reasons)})'

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "message": self.message,
                "corrections": [{"typed": t, "searched": s, "also_typed": t in self.also_typed} for t, s in self.corrections]}


def correction(term: str, index: TermIndex) -> str | None:
    """A common index term close to a missing or rare one: the most articles, each edit dividing
    the count by EDIT_COST (so "coronavir" becomes "coronavirus", 8,005 articles at two edits,
    rather than the misspelling "coronaviur", 5 articles at one). Ties break the same way on every
    engine: the most articles, then fewer edits, then alphabetical order.

    Words with digits (codes, model numbers) and words under four letters are left alone. A missing
    word may differ by one edit, or two if it has more than seven letters; a rare one by one edit.
    """
    if len(term) < 4 or any(ch.isdigit() for ch in term):
        return None
    frequency = index.doc_frequency(term)
    if frequency > RARE:
        return None
    needed = max(MIN_COMMON, RATIO * frequency)
    edits = MAX_EDITS if len(term) > LONG and frequency == 0 else 1
    candidates = [  # the smallest is the best; equal weighed counts go to the most articles, fewer edits, A-Z
        (-count / EDIT_COST ** distance, -count, distance, other)
        for other, count in index.similar_terms(term, edits)
        if count >= needed and (distance := edit_distance(term, other, edits)) <= edits
    ]
    return min(candidates)[-1] if candidates else None


class Corrected(NamedTuple):
    """A query with its plain words corrected: `replacements` maps typed terms to the searched ones;
    `kept` are the typed terms in a few articles, searched as typed too (a rare word may be right)."""

    query: ParsedQuery
    replacements: dict[str, str]
    kept: frozenset[str]


def corrected(parsed: ParsedQuery, index: TermIndex) -> Corrected | None:
    """The query with its plain words corrected; None if nothing changed. Words in capitals are left
    alone in a query with lower case (an abbreviation the index lacks is no misspelt word)."""
    replacements: dict[str, str] = {}
    lower_case = any(ch.islower() for ch in parsed.text)  # a query in capitals has no acronyms to tell apart
    for leaf in _plain_terms(parsed.root):
        if lower_case and _acronym(leaf.typed):
            continue  # ITAM, SSRI, MPCs
        if leaf.term not in replacements and (better := correction(leaf.term, index)) is not None:
            replacements[leaf.term] = better
    if not replacements:
        return None
    kept = frozenset(t for t in replacements if index.doc_frequency(t) > 0)
    return Corrected(ParsedQuery(parsed.text, _replace(parsed.root, replacements, kept), parsed.plain_words),
                     replacements, kept)


def suggestion(text: str, fixed: Corrected, texts: Iterable[str]) -> Suggestion:
    """How to show a correction: the typed words replaced by a surface form of the searched terms,
    taken from the found articles' `texts` when one analyses to the term (else the term itself)."""
    replacements = fixed.replacements
    surface = {term: _surface_form(term, texts) for term in replacements.values()}
    corrections: list[tuple[str, str]] = []
    also_typed: list[str] = []

    def fix(match: Any) -> str:
        word = match.group()
        term = analyze_word(word)
        if term in replacements:
            shown = surface[replacements[term]]
            if (word.lower(), shown) not in corrections:
                corrections.append((word.lower(), shown))
                if term in fixed.kept:
                    also_typed.append(word.lower())
            return shown
        return word

    query = WORD_RE.sub(fix, text).lower()
    return Suggestion(" ".join(query.split()), tuple(corrections), tuple(also_typed))


def _surface_form(term: str, texts: Iterable[str]) -> str:
    """The term as the found articles spell it, without a possessive ("fiona", not "fiona’s")."""
    for text in texts:
        for word in WORD_RE.findall(text):
            if analyze_word(word) == term:
                word = word.lower()
                return word[:-2] if word.endswith(("'s", "’s")) else word
    return term


def _acronym(typed: str) -> bool:
    """Whether a typed word is in capitals (a plural s allowed): two letters or more, all upper case."""
    letters = "".join(ch for ch in typed if ch.isalpha())
    letters = letters[:-1] if letters.endswith("s") else letters
    return len(letters) >= 2 and letters.isupper()


def _plain_terms(node: Node) -> Iterable[Term]:
    """Plain positive words (not fuzzy, prefix or negated): the ones a typo check applies to."""
    if isinstance(node, Term):
        if not node.fuzzy and not node.prefix:
            yield node
    elif isinstance(node, (And, Or)):
        for item in node.items:
            yield from _plain_terms(item)


def _replace(node: Node, replacements: dict[str, str], kept: frozenset[str]) -> Node:
    """The tree with typed terms replaced; a `kept` one by itself OR its replacement."""
    if isinstance(node, Term):
        if node.term in replacements and not node.fuzzy and not node.prefix:
            new = Term(replacements[node.term], node.field, boost=node.boost)
            return Or((node, new)) if node.term in kept else new
        return node
    if isinstance(node, And):
        return And(tuple(_replace(i, replacements, kept) for i in node.items), node.implicit)
    if isinstance(node, Or):
        return Or(tuple(_replace(i, replacements, kept) for i in node.items))
    return node  # phrases and negated words stay as typed
