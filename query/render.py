"""Render search results for a terminal (bold colour) or a pipe (plain [marks])."""
from __future__ import annotations

import json

import click

from indexer.engines import Contribution

from .models import SearchResults, Span


def highlight(text: str, spans: tuple[Span, ...], color: bool) -> str:
    """The text with each span marked: bold yellow on a terminal, [brackets] otherwise."""
    parts: list[str] = []
    position = 0
    for start, end in sorted(spans):
        if start < position:
            continue
        parts.append(text[position:start])
        word = text[start:end]
        parts.append(click.style(word, fg="yellow", bold=True) if color else f"[{word}]")
        position = end
    parts.append(text[position:])
    return "".join(parts)


def render_text(results: SearchResults, color: bool) -> str:
    lines: list[str] = []
    if results.plain_words:
        lines.append("(the query syntax was malformed; searched its words instead)")
    if results.suggestion:
        lines.append(results.suggestion.message)
    if results.fallback:
        lines.append(f"No article has all the words of {results.query!r}; showing articles with any of them.")
    lines.append(f"{results.total} result{'s' if results.total != 1 else ''} for {results.query!r}")
    for hit in results.hits:
        headline = highlight(hit.headline, hit.headline_highlights, color)
        title = click.style(headline, bold=True) if color and not hit.headline_highlights else headline
        lines.append("")
        lines.append(f"{hit.rank}. {title}  (score {hit.score:.4g})")
        details = [hit.location] + ([hit.date] if hit.date else [])
        lines.append("   " + click.style(" · ".join(details), dim=True) if color else "   " + " · ".join(details))
        for snippet in hit.snippets:
            label = f"{snippet.section}:"
            lines.append(f"   {click.style(label, fg='cyan') if color else label} {highlight(snippet.text, snippet.highlights, color)}")
        lines.extend(explain_lines(hit.explanation))
    return "\n".join(lines)


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
