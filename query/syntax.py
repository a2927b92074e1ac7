"""Query syntax: parse what a user types into a small tree that every engine translates.

Supported: words (all must match), "quoted phrases", field:word and field:"phrase", AND / OR / NOT
(upper case), -word and +word, parentheses, word~N (fuzzy, N edits, default 1), prefix* .
Lucene's syntax is read as Lucene reads it:
- `-`, `+` and `!` apply to what follows them: a word, a "phrase" or a (group); `!` is NOT, like `-`.
  They are operators where a word starts: glued to a word or `)` a `-` is a hyphen ("(H2A)-histone"),
  and `-` or `+` before a digit is the number's sign ("E2f-1, -2", "+1"), where Lucene would exclude or require.
- `&&` is AND and `||` is OR.
- `field:(group)` searches every word of the group in that field (a field inside the group wins).
- `word^N`, `"phrase"^N` and `(group)^N` weigh those words N times in the score (N > 0, at most 100).
- `"phrase"~N` lets the phrase's words stand up to N moves apart, as in Lucene (a swap costs 2; N at most 10).
A malformed query (unbalanced quote or parenthesis, stray operator, a bad ~ or ^) is searched as plain words.
Words are analysed here with the index's analyzer, so engines receive index terms.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from indexer.analysis import WORD_RE, analyze_word, fold, native_word_matcher, normalize, search_key, term_key, terms
from indexer.errors import QueryError
from indexer.query_tree import (SEARCH_FIELDS, And, Node, Not, Or, Phrase, Term, edit_distance, is_required,
                                positive_leaves, required, restrict, transform, within_edits)
from indexer.query_tree import leaves as all_leaves

__all__ = ["SEARCH_FIELDS", "And", "Node", "Not", "Or", "ParsedQuery", "Phrase", "Term", "TermMatcher", "edit_distance",
           "parse", "positive_leaves", "restrict", "within_edits"]
FIELD_ALIASES = {"title": "headline", "highlights": "bullets", "caption": "captions", "text": "body", "author": "authors",
                 "byline": "authors"}
MAX_QUERY_CHARS = 2000
MAX_FUZZY_EDITS = 2
MIN_PREFIX_CHARS = 2  # `a*` would expand to a large part of the vocabulary
MAX_NESTING = 32  # parentheses and NOT chains deeper than this are read as plain words
MAX_TERMS = 64  # distinct words and phrases per query: each costs a pass over its postings
MAX_EXPANDING = 4  # prefix* and word~ terms per query: each may stand for hundreds of index terms
MAX_BOOST = 100.0  # `word^N`: past this one word outweighs any other anyway
MAX_SLOP = 10  # `"a phrase"~N`: past this the words are merely in the same passage


@dataclass(frozen=True)
class ParsedQuery:
    """A parsed query: its tree and the text it came from."""

    text: str
    root: Node
    plain_words: bool = False  # the syntax was malformed and the query was read as plain words

    def relaxed(self) -> "ParsedQuery | None":
        """The any-word version of an all-words query, or None if it cannot be relaxed: words side by
        side become any of them; excluded (-word) and required (+word) ones stay as they are."""
        root = self.root
        if isinstance(root, And) and root.implicit:
            optional = tuple(i for i in root.items if not isinstance(i, Not) and not is_required(i))
            kept = tuple(i for i in root.items if isinstance(i, Not) or is_required(i))
            if len(optional) > 1:
                either: Node = Or(optional)
                return ParsedQuery(self.text, And((either, *kept), implicit=False) if kept else either, self.plain_words)
        return None


_SUFFIX = r'(?:[~^][^\s()"]*)?'  # `~N` / `^N` glued to a closing quote or parenthesis
_TOKEN_RE = re.compile(
    r'(?P<lparen>\()|(?P<rparen>\)' + _SUFFIX + r')|'
    # an operator on what follows (-word, -"a phrase", -(a group)) where a word may start: a `-` glued
    # to a word or `)` is a hyphen, and `-` or `+` before a digit is the number's sign ("E2f-1, -2", "+1")
    r'(?P<prefix>(?<![^\s(])(?:!|[-+](?!\d))(?=[^\s)]))|'
    r'(?P<field>[^\s()":]+):(?=[("])|'  # field:(group), field:"phrase"
    r'(?P<quote>"[^"]*"?' + _SUFFIX + r')|'
    r'(?P<word>[^\s()"]+)'
)
_OPERATORS = {"AND": "AND", "&&": "AND", "OR": "OR", "||": "OR", "NOT": "NOT"}
_NUMBER = r"\d+(?:\.\d*)?|\.\d+"
_MODIFIER_RE = re.compile(rf"~(?P<tilde>\d*)|\^(?P<boost>{_NUMBER})")
_WORD_MODIFIERS_RE = re.compile(rf"(?P<core>.*?)(?P<modifiers>(?:~\d*|\^(?:{_NUMBER}))*)", re.DOTALL)


class _Malformed(Exception):
    pass


def _modifiers(suffix: str) -> tuple[str | None, float]:
    """The `~N` (its digits, "" for a bare ~; None without one) and `^N` boost (1 without one) of a
    word, phrase or group: each at most once, in either order. Anything else there is malformed."""
    tilde: str | None = None
    boost: float | None = None
    position = 0
    while position < len(suffix):
        found = _MODIFIER_RE.match(suffix, position)
        if found is None or (found["tilde"] is not None and tilde is not None) or (found["boost"] and boost is not None):
            raise _Malformed()
        if found["tilde"] is not None:
            tilde = found["tilde"]
        else:
            boost = float(found["boost"])
            if not boost > 0:  # ^0 would drop the word from the score while still requiring it
                raise _Malformed()
        position = found.end()
    return tilde, min(boost or 1.0, MAX_BOOST)


def _boosted(node: Node | None, boost: float) -> Node | None:
    """Every word of `node` weighed `boost` times more (nested boosts multiply, up to MAX_BOOST)."""
    if node is None or boost == 1.0:
        return node
    return transform(node, lambda leaf: replace(leaf, boost=min(leaf.boost * boost, MAX_BOOST)))


def parse(text: str) -> ParsedQuery:
    """Parse a query; raise QueryError only if it holds nothing searchable."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}")
    text = "".join(ch if ch.isprintable() else " " for ch in normalize(text))
    parser = _Parser(text)
    try:
        root = parser.parse()
        plain = False
    except _Malformed:
        root = _plain_words(text)
        plain = True
    if root is not None and not _has_positive(root):
        raise QueryError("the query only excludes words (NOT, -word); add a word to search for")
    if root is None:
        why = "; ".join(dict.fromkeys(parser.dropped)) or "only stop words, operators or punctuation"
        raise QueryError(f"the query has no searchable words ({why})")
    _check_size(root)
    return ParsedQuery(text, root, plain)


def _check_size(root: Node) -> None:
    """Refuse queries whose cost would be out of proportion (see MAX_TERMS, MAX_EXPANDING)."""
    leaves = set(all_leaves(root))
    if len(leaves) > MAX_TERMS:
        raise QueryError(f"the query has {len(leaves)} different words; the limit is {MAX_TERMS}")
    expanding = [leaf for leaf in leaves if isinstance(leaf, Term) and (leaf.prefix or leaf.fuzzy)]
    if len(expanding) > MAX_EXPANDING:
        raise QueryError(f"the query has {len(expanding)} prefix* or fuzzy~ words; the limit is {MAX_EXPANDING}")


def _plain_words(text: str) -> Node | None:
    return _combine_and(_words(text), implicit=True)


def _words(text: str) -> list[Node]:
    """The words of a text, each as a node, all syntax ignored."""
    return [node for node in (_word_node(w, None) for w in WORD_RE.findall(text)) if node is not None]


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
    unique = tuple(dict.fromkeys(flat))  # a repeated word adds cost, not meaning
    return unique[0] if len(unique) == 1 else And(unique, implicit)


def _word_node(word: str, field_name: str | None, fuzzy: int = 0, prefix: bool = False, boost: float = 1.0,
               quoted: bool = False) -> Node | None:
    """A surface word as a node: a term, or a phrase when the analyzer splits it (e.g. IS-KP)."""
    if prefix:
        # The index holds stems: `mobile*` must look for terms starting with "mobil" (the stem of
        # "mobile"), else it finds neither "mobile" nor "mobiles". The shared start of the folded
        # word and its stem keeps what was typed and never asks for more than the stem.
        folded = fold(word.rstrip("*"))
        stem = analyze_word(word.rstrip("*"))
        start = os.path.commonprefix([folded, stem]) if stem else folded
        return Term(start, field_name, prefix=True, boost=boost, typed=word) if len(start) >= MIN_PREFIX_CHARS else None
    found = terms(word)
    if not found:
        return None
    if len(found) > 1:
        return Phrase(tuple(found), field_name, boost=boost, typed=word, quoted=quoted)
    return Term(found[0], field_name, fuzzy=fuzzy, boost=boost, typed=word, quoted=quoted)


class _Parser:
    """Recursive descent: or := and (OR and)* ; and := unary+ ; unary := (NOT|-|+|!) unary | atom ;
    atom := word | "phrase" | field:atom | (or), where a word, phrase or group may end in ~N / ^N."""

    def __init__(self, text: str) -> None:
        self.tokens = [m for m in _TOKEN_RE.finditer(text)]
        self.pos = 0
        self.depth = 0
        self.dropped: list[str] = []  # why words were left out, for the error when nothing is left

    def _enter(self) -> None:
        """Count one level of nesting; too deep is malformed (read as plain words), never a crash."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _Malformed()

    def parse(self) -> Node | None:
        node = self._or()
        if self.pos != len(self.tokens):
            raise _Malformed()
        return node

    def _peek(self) -> re.Match[str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _op(self) -> str | None:
        """The operator the next token is (AND / &&, OR / ||, NOT), if it is one."""
        token = self._peek()
        return _OPERATORS.get(token.group()) if token is not None and token.lastgroup == "word" else None

    def _at_group_end(self) -> bool:
        token = self._peek()
        return token is None or token.lastgroup == "rparen"

    def _or(self) -> Node | None:
        items = [self._and()]
        while self._op() == "OR":
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
        while not self._at_group_end() and self._op() != "OR":
            if self._op() == "AND":
                if not seen_any:
                    raise _Malformed()
                explicit = True
                self.pos += 1
                if self._at_group_end() or self._op() in ("OR", "AND"):
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
        """NOT, `-` and `!` exclude what follows (a word, "phrase" or group); `+` requires it."""
        token = self._peek()
        assert token is not None
        if self._op() == "NOT" or token.lastgroup == "prefix":
            self.pos += 1
            if self._at_group_end() or self._op() in ("OR", "AND"):
                raise _Malformed()
            self._enter()
            inner = self._unary()
            self.depth -= 1
            if inner is None:
                return None
            return required(inner) if token.group() == "+" else Not(inner)
        return self._atom()

    def _atom(self) -> Node | None:
        token = self._peek()
        assert token is not None
        self.pos += 1
        kind, text = token.lastgroup, token.group()
        if kind == "lparen":
            self._enter()
            node = self._or()
            closing = self._peek()
            if closing is None or closing.lastgroup != "rparen":
                raise _Malformed()
            self.pos += 1
            self.depth -= 1
            tilde, boost = _modifiers(closing.group()[1:])
            if tilde is not None:  # a group has no slop or fuzziness
                raise _Malformed()
            return _boosted(node, boost)
        if kind == "rparen":
            raise _Malformed()
        if kind == "field":
            return self._field(token["field"])
        if kind == "quote":
            return self._phrase(text)
        return self._word(text)

    def _field(self, name: str) -> Node | None:
        """`field:(a group)` or `field:"a phrase"`: its words searched in that field. The name of a
        field we do not know is searched as words, as in `foo:bar`."""
        node = self._atom()
        canonical = FIELD_ALIASES.get(name.lower(), name.lower())
        if canonical in SEARCH_FIELDS:
            return restrict(node, canonical) if node is not None else None
        return _combine_and([*_words(name), *([node] if node is not None else [])], implicit=True)

    def _phrase(self, quoted: str) -> Node | None:
        """A quoted phrase, with Lucene's `~N` (slop) and `^N` (boost) after the closing quote."""
        end = quoted.rfind('"')
        if end < 1:  # no closing quote
            raise _Malformed()
        inside = quoted[1:end]
        tilde, boost = _modifiers(quoted[end + 1:])
        found = terms(inside)
        if not found:
            return None
        if len(found) == 1:  # one word has nothing to stand apart from: Lucene ignores its ~N too
            return Term(found[0], boost=boost, typed=inside, quoted=True)
        return Phrase(tuple(found), slop=min(int(tilde or 0), MAX_SLOP), boost=boost, typed=inside, quoted=True)

    def _word(self, text: str) -> Node | None:
        if text in _OPERATORS:
            raise _Malformed()
        field_name = None
        name, sep, rest = text.partition(":")
        if sep and rest:
            canonical = FIELD_ALIASES.get(name.lower(), name.lower())
            if canonical not in SEARCH_FIELDS:  # not a field we know: search the words of it
                return _combine_and(_words(text), implicit=True)
            field_name, text = canonical, rest
        word, tilde, boost = text, None, 1.0
        split = _WORD_MODIFIERS_RE.fullmatch(text)
        if split is not None and WORD_RE.search(split["core"]):  # punctuation alone has no ~ or ^ to read
            word = split["core"]
            tilde, boost = _modifiers(split["modifiers"])
            if "~" in word or "^" in word:  # e.g. blair^x, a~b~2: not Lucene's word~N^N
                raise _Malformed()
        if tilde is not None:
            if word.endswith("*"):  # a prefix cannot also be fuzzy
                raise _Malformed()
            edits = min(int(tilde or 1), MAX_FUZZY_EDITS)
            return _word_node(word, field_name, fuzzy=edits, boost=boost)
        if word.endswith("*") and WORD_RE.fullmatch(word.rstrip("*")):
            node = _word_node(word, field_name, prefix=True, boost=boost)
            if node is None:
                self.dropped.append(f"a prefix needs {MIN_PREFIX_CHARS} letters before the *: {text!r}")
            return node
        if word.startswith("*") or word.startswith("?"):
            self.dropped.append(f"wildcards only work at the end of a word: {text!r}")
        return _word_node(word, field_name, boost=boost)


class TermMatcher:
    """Tells whether an index term matches the query (for highlighting), and, without analysing
    it, whether a text can contain a matching word at all (most paragraphs of a hit cannot)."""

    def __init__(self, node: Node) -> None:
        self.exact: set[str] = set()
        self.prefixes: list[str] = []
        self.fuzzy: list[tuple[str, int]] = []
        # a prefix's key is a prefix of the key of every term it expands to, so it serves for them all
        key_terms: set[str] = set()
        for leaf in positive_leaves(node):
            if isinstance(leaf, Phrase):
                self.exact.update(leaf.terms)
                key_terms.update(leaf.terms)
            elif leaf.expanded is not None:  # resolved by indexer.expansion: the very terms searched
                self.exact.update(leaf.expanded)
                key_terms.update((leaf.term,) if leaf.prefix else leaf.expanded)
            elif leaf.prefix:
                self.prefixes.append(leaf.term)
                key_terms.add(leaf.term)
            elif leaf.fuzzy:
                self.fuzzy.append((leaf.term, leaf.fuzzy))
            else:
                self.exact.add(leaf.term)
                key_terms.add(leaf.term)
        keys = {term_key(t) for t in key_terms}
        self.keys: frozenset[str] | None = None if self.fuzzy or None in keys else frozenset(keys)  # type: ignore[arg-type]
        # the native analyzer finds the matching words of a text in one call (no fuzzy words: their
        # edit distance is tested in Python)
        self.native = None if self.fuzzy else native_word_matcher(self.exact, self.prefixes)

    def __call__(self, term: str) -> bool:
        return (
            term in self.exact
            or any(term.startswith(p) for p in self.prefixes)
            or any(edit_distance(term, f, limit) <= limit for f, limit in self.fuzzy)
        )

    def may_match(self, text: str) -> bool:
        """False only if no word of `text` matches (a substring test on the folded text)."""
        if self.keys is None:
            return True
        folded = search_key(text)
        return any(key in folded for key in self.keys)


