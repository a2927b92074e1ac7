"""Query syntax: parse what a user types into a small tree that every engine translates.

Supported: words (all must match), "quoted phrases", field:word and field:"phrase", AND / OR / NOT
(upper case), -word and +word, parentheses, word~N (fuzzy, N edits, default 1), prefix* .
A malformed query (unbalanced quote or parenthesis, stray operator) is searched as plain words.
Words are analysed here with the index's analyzer, so engines receive index terms.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator, Union

from indexer.analysis import WORD_RE, analyze_word, fold, terms
from indexer.errors import QueryError

SEARCH_FIELDS: tuple[str, ...] = ("headline", "bullets", "body", "captions")
FIELD_ALIASES = {"title": "headline", "highlights": "bullets", "caption": "captions", "text": "body"}
MAX_QUERY_CHARS = 2000
MAX_FUZZY_EDITS = 2


@dataclass(frozen=True)
class Term:
    """One index term; `field` None means any searchable field."""

    term: str
    field: str | None = None
    fuzzy: int = 0
    prefix: bool = False
    boost: float = 1.0  # relative weight of the term in the score (query.like builds weighted queries)


@dataclass(frozen=True)
class Phrase:
    terms: tuple[str, ...]
    field: str | None = None


@dataclass(frozen=True)
class And:
    items: tuple["Node", ...]
    implicit: bool = True  # words side by side, not an explicit AND: may relax to any-word


@dataclass(frozen=True)
class Or:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    item: "Node"


Node = Union[Term, Phrase, And, Or, Not]


@dataclass(frozen=True)
class ParsedQuery:
    """A parsed query: its tree and the text it came from."""

    text: str
    root: Node
    plain_words: bool = False  # the syntax was malformed and the query was read as plain words

    def relaxed(self) -> "ParsedQuery | None":
        """The any-word version of an all-words query, or None if it cannot be relaxed."""
        root = self.root
        if isinstance(root, And) and root.implicit:
            positives = tuple(i for i in root.items if not isinstance(i, Not))
            negatives = tuple(i for i in root.items if isinstance(i, Not))
            if len(positives) > 1:
                either: Node = Or(positives)
                return ParsedQuery(self.text, And((either, *negatives), implicit=False) if negatives else either, self.plain_words)
        return None


_TOKEN_RE = re.compile(
    r'(?P<lparen>\()|(?P<rparen>\))|(?P<quote>"[^"]*"?)|'
    r'(?P<word>[+-]?(?:[^\s()"]+:"[^"]*"?|[^\s()"]+))'
)


class _Malformed(Exception):
    pass


def parse(text: str) -> ParsedQuery:
    """Parse a query; raise QueryError only if it holds nothing searchable."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    try:
        root = _Parser(text).parse()
        plain = False
    except _Malformed:
        root = _plain_words(text)
        plain = True
    if root is None or not _has_positive(root):
        raise QueryError("the query has no searchable words (only stop words, operators or punctuation)")
    return ParsedQuery(text, root, plain)


def _plain_words(text: str) -> Node | None:
    items = [_word_node(w, None) for w in WORD_RE.findall(text)]
    return _combine_and([i for i in items if i is not None], implicit=True)


def _has_positive(node: Node) -> bool:
    if isinstance(node, Not):
        return False
    if isinstance(node, (And, Or)):
        return any(_has_positive(i) for i in node.items)
    return True


def _combine_and(items: list[Node], implicit: bool) -> Node | None:
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    flat: list[Node] = []
    for item in items:  # words side by side inside words side by side: one level
        flat.extend(item.items if isinstance(item, And) and item.implicit and implicit else (item,))
    return And(tuple(flat), implicit)


def _word_node(word: str, field_name: str | None, fuzzy: int = 0, prefix: bool = False) -> Node | None:
    """A surface word as a node: a term, or a phrase when the analyzer splits it (e.g. IS-KP)."""
    if prefix:
        folded = fold(word.rstrip("*"))
        return Term(folded, field_name, prefix=True) if len(folded) >= 2 else None
    found = terms(word)
    if not found:
        return None
    if len(found) > 1:
        return Phrase(tuple(found), field_name)
    return Term(found[0], field_name, fuzzy=fuzzy)


class _Parser:
    """Recursive descent: or := and (OR and)* ; and := unary+ ; unary := (NOT|-|+) unary | atom."""

    def __init__(self, text: str) -> None:
        self.tokens = [m for m in _TOKEN_RE.finditer(text)]
        self.pos = 0

    def parse(self) -> Node | None:
        node = self._or()
        if self.pos != len(self.tokens):
            raise _Malformed()
        return node

    def _peek(self) -> re.Match[str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _is_op(self, op: str) -> bool:
        token = self._peek()
        return token is not None and token.group() == op

    def _or(self) -> Node | None:
        items = [self._and()]
        while self._is_op("OR"):
            self.pos += 1
            items.append(self._and())
        if len(items) == 1:
            return items[0]
        if any(i is None for i in items):
            raise _Malformed()
        return Or(tuple(items))  # type: ignore[arg-type]

    def _and(self) -> Node | None:
        items: list[Node] = []
        explicit = False
        seen_any = False
        while (token := self._peek()) is not None and token.group() not in ("OR", ")"):
            if token.group() == "AND":
                if not seen_any:
                    raise _Malformed()
                explicit = True
                self.pos += 1
                if self._peek() is None or self._peek().group() in ("OR", ")", "AND"):  # type: ignore[union-attr]
                    raise _Malformed()
                continue
            seen_any = True
            node = self._unary()
            if node is not None:
                items.append(node)
        if not seen_any:
            raise _Malformed()
        return _combine_and(items, implicit=not explicit)

    def _unary(self) -> Node | None:
        token = self._peek()
        assert token is not None
        text = token.group()
        if text == "NOT":
            self.pos += 1
            if self._peek() is None or self._peek().group() in ("OR", "AND", ")"):  # type: ignore[union-attr]
                raise _Malformed()
            inner = self._unary()
            return Not(inner) if inner is not None else None
        if token.lastgroup == "word" and text[0] in "+-" and len(text) > 1:
            self.pos += 1
            inner = self._word(text[1:])
            return Not(inner) if (inner is not None and text[0] == "-") else inner
        return self._atom()

    def _atom(self) -> Node | None:
        token = self._peek()
        assert token is not None
        self.pos += 1
        kind, text = token.lastgroup, token.group()
        if kind == "lparen":
            node = self._or()
            if not self._is_op(")"):
                raise _Malformed()
            self.pos += 1
            return node
        if kind == "rparen":
            raise _Malformed()
        if kind == "quote":
            return self._phrase(text, None)
        return self._word(text)

    def _phrase(self, quoted: str, field_name: str | None) -> Node | None:
        if len(quoted) < 2 or not quoted.endswith('"'):
            raise _Malformed()
        found = terms(quoted[1:-1])
        if not found:
            return None
        return Phrase(tuple(found), field_name) if len(found) > 1 else Term(found[0], field_name)

    def _word(self, text: str) -> Node | None:
        if text in ("AND", "OR", "NOT"):
            raise _Malformed()
        field_name = None
        name, sep, rest = text.partition(":")
        if sep and rest:
            canonical = FIELD_ALIASES.get(name.lower(), name.lower())
            if canonical in SEARCH_FIELDS:
                field_name, text = canonical, rest
                if text.startswith('"'):
                    return self._phrase(text, field_name)
            else:  # not a field we know: search the words of it
                return _combine_and([n for n in (_word_node(w, None) for w in WORD_RE.findall(text)) if n], True)
        fuzzy_match = re.fullmatch(r"(.+?)~(\d*)", text)
        if fuzzy_match and WORD_RE.fullmatch(fuzzy_match.group(1)):
            edits = min(int(fuzzy_match.group(2) or 1), MAX_FUZZY_EDITS)
            return _word_node(fuzzy_match.group(1), field_name, fuzzy=edits)
        if text.endswith("*") and WORD_RE.fullmatch(text.rstrip("*")):
            return _word_node(text, field_name, prefix=True)
        return _word_node(text, field_name)


def positive_leaves(node: Node) -> Iterator[Term | Phrase]:
    """The terms and phrases a matching document may contain (NOT branches excluded)."""
    if isinstance(node, (Term, Phrase)):
        yield node
    elif isinstance(node, (And, Or)):
        for item in node.items:
            yield from positive_leaves(item)


def term_matcher(node: Node) -> Callable[[str], bool]:
    """A predicate telling whether an index term matches the query (for highlighting)."""
    exact: set[str] = set()
    prefixes: list[str] = []
    fuzzy: list[tuple[str, int]] = []
    for leaf in positive_leaves(node):
        if isinstance(leaf, Phrase):
            exact.update(leaf.terms)
        elif leaf.prefix:
            prefixes.append(leaf.term)
        elif leaf.fuzzy:
            fuzzy.append((leaf.term, leaf.fuzzy))
        else:
            exact.add(leaf.term)

    def matches(term: str) -> bool:
        return (
            term in exact
            or any(term.startswith(p) for p in prefixes)
            or any(edit_distance(term, f, limit) <= limit for f, limit in fuzzy)
        )

    return matches


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-free Levenshtein distance, giving up early past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def restrict(node: Node, field_name: str) -> Node:
    """The same tree with every field-less leaf limited to one field (the --field option)."""
    if isinstance(node, Term):
        return node if node.field else Term(node.term, field_name, node.fuzzy, node.prefix, node.boost)
    if isinstance(node, Phrase):
        return node if node.field else Phrase(node.terms, field_name)
    if isinstance(node, Not):
        return Not(restrict(node.item, field_name))
    if isinstance(node, And):
        return And(tuple(restrict(i, field_name) for i in node.items), node.implicit)
    return Or(tuple(restrict(i, field_name) for i in node.items))
