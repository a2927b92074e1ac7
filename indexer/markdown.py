"""Markdown articles: markdown-it-py tokens mapped to headline, bullets, body and captions.

- the first heading is the headline (else front matter `title`, else the first paragraph);
- the first bullet list before any body paragraph gives the bullets;
- every other paragraph (in lists and quotes too) is a body paragraph;
- image alt text and titles are captions;
- YAML front matter (safe loading only) gives date, source, url, categories, title.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from .errors import BadArticle
from .models import Article
from .readers import _optional_text, _text_list, clean, fit_headline, path_text


#: Deeper block nesting (lists, quotes) than this makes a file unreadable. markdown-it silently drops
#: everything past its limit, so the limit is set far above real articles and reaching it is reported.
MAX_NESTING = 200
_SCRIPT_RE = re.compile(r"<(script|style)\b.*?(</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_SCRIPT_TAG_RE = re.compile(r"</?(script|style)\b", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).use(front_matter_plugin)
    tokenize = parser.block.tokenize

    def guarded(state: StateBlock, start_line: int, end_line: int) -> None:
        if state.level >= MAX_NESTING and not all(state.isEmpty(n) for n in range(start_line, end_line)):
            raise BadArticle(f"Markdown nested too deeply to read (over {MAX_NESTING} levels of lists and quotes)")
        tokenize(state, start_line, end_line)

    parser.block.tokenize = guarded  # type: ignore[method-assign]
    return parser


def _html_text(html_source: str) -> str:
    """The visible text of raw HTML: scripts and styles dropped, tags removed, entities decoded."""
    return clean(_TAG_RE.sub(" ", _SCRIPT_RE.sub(" ", html_source)))


def _inline_text(token: Token, captions: list[str]) -> str:
    """Plain text of an inline token; images are collected as captions instead."""
    parts: list[str] = []
    in_script = False
    for child in token.children or []:
        if child.type == "html_inline":  # tags are dropped; text between <script> and </script> too
            if _SCRIPT_TAG_RE.match(child.content):
                in_script = not child.content.startswith("</")
        elif in_script:
            continue
        elif child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            for caption in (child.content, str(child.attrs.get("title") or "")):
                if clean(caption) and clean(caption) not in captions:
                    captions.append(clean(caption))
    return clean("".join(parts))


def _block_text(token: Token, captions: list[str]) -> str:
    """The text of a block: inline text, visible HTML text, or code (an indented paragraph in a
    scraped article is a code block to Markdown, and its words must still be found)."""
    if token.type == "inline":
        return _inline_text(token, captions)
    if token.type == "html_block":
        return _html_text(token.content)
    return clean(token.content)


def _front_matter(content: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise BadArticle(f"invalid YAML front matter: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadArticle("front matter is not a YAML mapping")
    return data


def article_from_markdown(text: str, article_id: str, path: Path) -> Article:
    """Parse one Markdown article."""
    meta: dict[str, Any] = {}
    headline = ""
    bullets: list[str] = []
    body: list[str] = []
    captions: list[str] = []
    list_depth = 0
    bullet_list_open = False  # inside the first, top-level bullet list that gives the bullets
    bullets_done = False
    heading_open = False
    for token in _parser().parse(text):
        if token.type == "front_matter":
            meta = _front_matter(token.content)
        elif token.type == "heading_open":
            heading_open = True
        elif token.type == "heading_close":
            heading_open = False
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            if list_depth == 0 and token.type == "bullet_list_open" and not bullets_done and not body:
                bullet_list_open = True
            list_depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
            if list_depth == 0 and bullet_list_open:
                bullet_list_open, bullets_done = False, True
        elif token.type in ("inline", "html_block", "code_block", "fence"):
            content = _block_text(token, captions)
            if not content:
                continue
            if heading_open and not headline:
                headline = content
            elif bullet_list_open:
                bullets.append(content)
            else:
                body.append(content)
    headline = headline or _optional_text(meta.get("title"), "title") or ""
    if not headline and body:
        headline, body = body[0], body[1:]
    headline, body = fit_headline(headline, body)
    categories = meta.get("categories", meta.get("tags"))
    if not headline and not body and not bullets and not captions:
        raise BadArticle("no text (empty or whitespace only)")
    return Article(
        id=article_id,
        headline=headline,
        bullets=tuple(bullets),
        body=tuple(body),
        captions=tuple(captions),
        date=_optional_text(meta.get("date"), "date"),
        source=_optional_text(meta.get("source"), "source"),
        url=_optional_text(meta.get("url"), "url"),
        categories=_text_list(categories, "categories"),
        path=path_text(path),
    )
