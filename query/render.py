"""Render search results for a terminal (colour, lines wrapped to its width) or a pipe (plain [marks])."""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, NamedTuple

import click

from indexer.engines import Contribution

from .models import Hit, SearchResults, Span

STYLES: dict[str, dict[str, Any]] = {
    "mark": {"fg": "yellow", "bold": True},  # a query word
    "title": {"bold": True},  # a headline, around its marked words
    "detail": {"dim": True},  # date and file under a headline
    "label": {"fg": "cyan"},  # a snippet's section
}
HIT_INDENT = 3  # hit details and snippets start under the headline
HANGING_INDENT = 5  # their continuation lines, two further in
PLAIN_MARK = "**"  # a match in uncoloured output, as Markdown writes bold
WORD = re.compile(r"(?:· )?\S+")  # a " · " separator goes to the next line with its item


class Styled(NamedTuple):
    """A line's text and its styled stretches (start, end, style name): kept apart so that lines
    wrap on the visible text and are coloured only after."""

    text: str
    runs: tuple[tuple[int, int, str], ...] = ()


def styled(text: str, style: str | None, color: bool) -> Styled:
    return Styled(text, ((0, len(text), style),) if color and style and text else ())


def marked(text: str, spans: tuple[Span, ...], color: bool, base: str | None = None) -> Styled:
    """The text with each span marked: bold yellow on a terminal, **like this** otherwise (brackets are
    common in news text, doubled asterisks are not). With `base`,
    the stretches between marks get that style too (a headline stays bold around its highlights)."""
    pieces: list[tuple[str, str | None]] = []
    position = 0
    for start, end in sorted(spans):
        if start < position:
            continue
        pieces += [(text[position:start], base), (text[start:end], "mark")]
        position = end
    pieces.append((text[position:], base))
    if not color:
        return Styled("".join(f"{PLAIN_MARK}{piece}{PLAIN_MARK}" if style == "mark" else piece for piece, style in pieces))
    return join(*(styled(piece, style, color) for piece, style in pieces))


def join(*parts: Styled) -> Styled:
    """Styled pieces side by side."""
    text, runs = "", []
    for part in parts:
        runs += [(start + len(text), end + len(text), style) for start, end, style in part.runs]
        text += part.text
    return Styled(text, tuple(runs))


def paint(line: Styled) -> str:
    """The line with its styles as terminal escapes."""
    parts, position = [], 0
    for start, end, style in sorted(line.runs):
        parts += [line.text[position:start], click.style(line.text[start:end], **STYLES[style])]
        position = end
    parts.append(line.text[position:])
    return "".join(parts)


def wrap(line: Styled, width: int | None, indent: int) -> list[Styled]:
    """The line broken between words into lines of at most `width` terminal cells, each after the
    first indented by `indent` (a hanging indent). A word longer than a line stays whole."""
    if width is None or cells(line.text) <= width:
        return [line]
    ends = [0]  # cells up to each character
    for char in line.text:
        ends.append(ends[-1] + cells(char))
    pieces: list[tuple[int, int, int]] = []  # (start, end, indent) of each output line
    start, end, lead = 0, 0, 0
    for word in WORD.finditer(line.text):
        if end > start and lead + ends[word.end()] - ends[start] > width:
            pieces.append((start, end, lead))
            start, lead = word.start(), indent
        end = word.end()
    pieces.append((start, end, lead))
    return [_cut(line, start, end, lead) for start, end, lead in pieces]


def _cut(line: Styled, start: int, end: int, lead: int) -> Styled:
    """Characters start:end of the line, after `lead` spaces, with the styles that fall in them."""
    runs = tuple((max(s, start) - start + lead, min(e, end) - start + lead, style)
                 for s, e, style in line.runs if s < end and e > start)
    return Styled(" " * lead + line.text[start:end], runs)


def cells(text: str) -> int:
    """Terminal columns the text takes: wide (East Asian) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def articles(count: int) -> str:
    return f"{count:,} article{'' if count == 1 else 's'}"


def summary(results: SearchResults, unfiltered: int = 0) -> list[str]:
    """The lines above the hits: how the query was read, and how many articles match and are shown.

    `unfiltered`: articles the query matches without the filters (given when they removed every hit).
    """
    lines: list[str] = []
    quoted = f'"{results.suggestion.query if results.suggestion else results.query}"'  # what was searched
    if results.plain_words:
        lines.append("(the query syntax was malformed; searched its words instead)")
    if results.suggestion:
        lines.append(results.suggestion.message)
    if not results.total:
        lines.append(f"no article matches the filters ({articles(unfiltered)} match {quoted} without them)"
                     if unfiltered else f"no article matches {quoted}")
        return lines
    if results.fallback:
        lines.append(f"no article has all the words of {quoted}; showing articles with any of them")
    elif results.all_words < results.total:
        lines.append(f"{articles(results.all_words)} {'has' if results.all_words == 1 else 'have'} every word "
                     f"of {quoted}, ranked first; then articles with some of them")
    shown = len(results.hits)
    lines.append(f"showing {shown:,} of {articles(results.total)} for {quoted}" if shown < results.total
                 else f"{articles(results.total)} for {quoted}")
    return lines


def facet_lines(results: SearchResults) -> list[str]:
    """With --facets, one line per facet: its values, the most matching articles first."""
    return [f"{name}: " + (" · ".join(f"{value} {count:,}" for value, count in values.items()) or "(none)")
            for name, values in (results.facets or {}).items()]


def hit_lines(hit: Hit, color: bool) -> list[tuple[Styled, int]]:
    """One hit's lines, each with its hanging indent: the headline, its id (what --like takes),
    date and file, its snippets, and with --explain the score's parts."""
    rank = f"{hit.rank}. "
    title = marked(hit.headline, hit.headline_highlights, color, base="title")
    details = " · ".join([*([hit.date[:10]] if hit.date else []), *([byline(hit.authors)] if hit.authors else []),
                          *([hit.location] if hit.location != hit.id else [])])
    lines = [
        (join(Styled(rank), title, Styled(f"  (score {hit.score:.4g})")), len(rank)),
        (join(Styled(" " * HIT_INDENT + hit.id), styled(f" · {details}" if details else "", "detail", color)), HANGING_INDENT),
    ]
    for snippet in hit.snippets:
        label = styled(f"{snippet.section}:", "label", color)
        text = marked(snippet.text, snippet.highlights, color)
        lines.append((join(Styled(" " * HIT_INDENT), label, Styled(" "), text), HANGING_INDENT))
    lines += [(Styled(line), HANGING_INDENT) for line in explain_lines(hit.explanation)]
    return lines


SHOWN_AUTHORS = 3  # names in a hit's details line; the rest are counted


def byline(authors: tuple[str, ...]) -> str:
    """"by Jane Smith, Bob Jones and 2 more": a long list of names does not crowd out the hit."""
    more = len(authors) - SHOWN_AUTHORS
    return "by " + ", ".join(authors[:SHOWN_AUTHORS]) + (f" and {more} more" if more > 0 else "")


def render_text(results: SearchResults, color: bool, width: int | None = None, unfiltered: int = 0) -> str:
    """Results as a person reads them; with `width` (a terminal's), lines wrap between words."""
    lines: list[tuple[Styled, int]] = [(Styled(line), HIT_INDENT)
                                       for line in (*summary(results, unfiltered), *facet_lines(results))]
    for hit in results.hits:
        lines.append((Styled(""), 0))
        lines += hit_lines(hit, color)
    return "\n".join(paint(piece) for line, indent in lines for piece in wrap(line, width, indent))


def explain_lines(explanation: tuple[Contribution, ...]) -> list[str]:
    """Per term, its share of the score and how it splits over fields, largest first."""
    by_term: dict[str, list[Contribution]] = {}
    for item in explanation:
        by_term.setdefault(item.term, []).append(item)
    ranked = sorted(by_term.items(), key=lambda entry: -sum(c.score for c in entry[1]))
    lines = []
    for term, items in ranked:
        fields = ", ".join(f"{c.field} {c.score:.2f}" for c in sorted(items, key=lambda c: -c.score))
        lines.append(f"   explain: {term} {sum(c.score for c in items):.2f} = {fields}")
    return lines


def render_json(results: SearchResults) -> str:
    return json.dumps(results.to_dict(), ensure_ascii=False, indent=2)
