"""Markdown articles as sites write them (Jekyll, Hugo, Eleventy): markdown-it-py tokens mapped to
headline, bullets, body and captions, with the post's front matter.

- the front-matter `title` is the headline (else the first heading, else the first paragraph); a first
  heading equal to the title is not repeated in the body;
- the first bullet list before any body paragraph gives the bullets; else `description`, `excerpt`,
  `summary`, `deck` or `subtitle` does (each one bullet, duplicates dropped);
- every other paragraph, heading, list item, quote and code block is a body paragraph, as a reader sees
  it: template code removed (`indexer.templates`), links as their text, raw HTML as its visible text
  (`indexer.htmltext`); image alt text and titles and figure captions are captions;
- the date is the front-matter date (any common form, `indexer.dates`), else the `YYYY-MM-DD-`
  file-name prefix; categories come from `categories`, `category`, `tags`, `topics` and `keywords`;
  authors from `author`, `authors` or `byline` (a list, or one string listing several: `indexer.bylines`).

Hostile input costs bounded time: nesting is capped (MAX_NESTING), link labels are scanned at most a few
times over per article, and an article with more inline markup than MAX_INLINE_MARKUP keeps the rest of
its paragraphs as plain text instead of parsing their markup.
"""
from __future__ import annotations

import re
import types
from functools import lru_cache
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt, helpers
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from .bylines import author_names
from .dates import iso_date
from . import fields
from .errors import BadArticle
from .frontmatter import split_front_matter
from .htmltext import html_text, looks_like_html, visible_text
from .models import Article
from .readers import clean, fit_headline, path_text
from .templates import is_file_name, strip_templates

#: Deeper block nesting (lists, quotes) than this makes a file unreadable. markdown-it silently drops
#: everything past its limit, so the limit is set far above real articles and reaching it is reported.
MAX_NESTING = 200
#: Inline markup characters parsed per article (the largest of 509 real blog posts has 1,036). Parsing
#: costs about 10 µs per such character; past the budget, paragraphs are kept as plain text.
MAX_INLINE_MARKUP = 100_000
_MARKUP_CHARS = "[]()*_<>!`&\\~"
#: Link labels are scanned for at most this many characters per character of the article: without a
#: bound, a run of `[` costs quadratic time (markdown-it rescans to the end for every one).
LABEL_SCANS_PER_CHAR = 4

_FILE_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})-")
_MARKUP_LANGUAGES = frozenset({"html", "xml", "xhtml", "svg", "vue", "erb", "liquid", "njk", "nunjucks", "jinja",
                               "jinja2", "django", "hbs", "handlebars", "markup", "htm", "jsx", "tsx", "astro"})
_SCRIPT_TAG_RE = re.compile(r"<(/?)(script|style)\b", re.IGNORECASE)
_IMAGE_TAG_RE = re.compile(r"<img\b", re.IGNORECASE)
# Link syntax that Markdown did not turn into a link (inside raw HTML or code, or broken): its text stays.
# Neither part can cross a bracket or parenthesis, so the time is linear.
_LINK_RE = re.compile(r"!?\[([^\[\]\n]{0,500})\]\((?:[^()\s]{0,2000})(?:\s+\"[^\"\n]{0,500}\")?\)")
_BROKEN_LINK_RE = re.compile(r"\]\([^\s)]{0,2000}\)?")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).enable(["table", "strikethrough"])
    tokenize = parser.block.tokenize
    parse_inline = parser.inline.parse

    def guarded(state: StateBlock, start_line: int, end_line: int) -> None:
        if state.level >= MAX_NESTING and not all(state.isEmpty(n) for n in range(start_line, end_line)):
            raise BadArticle(f"Markdown nested too deeply to read (over {MAX_NESTING} levels of lists and quotes)")
        tokenize(state, start_line, end_line)

    def budgeted(src: str, md: MarkdownIt, env: dict[str, Any], tokens: list[Token]) -> None:
        """Inline markup parsed while the article's budget lasts; past it, the text as it is."""
        markup = sum(src.count(c) for c in _MARKUP_CHARS)
        left = env.get("markup_left", MAX_INLINE_MARKUP)
        env["markup_left"] = left - markup
        if markup > left:
            token = Token("text", "", 0)
            token.content = src
            tokens.append(token)
        else:
            parse_inline(src, md, env, tokens)

    def bounded_label(state: StateInline, start: int, disable_nested: bool = False) -> int:
        """markdown-it's link label scan, within the article's budget of scanned characters."""
        left = state.env.setdefault("label_left", LABEL_SCANS_PER_CHAR * len(state.src) + 1_000)
        if left <= 0:
            return -1
        real_max = state.posMax
        state.posMax = min(real_max, start + left)
        try:
            end = helpers.parseLinkLabel(state, start, disable_nested)
        finally:
            limit, state.posMax = state.posMax, real_max
        state.env["label_left"] = left - ((end if end >= 0 else limit) - start)
        return end

    parser.block.tokenize = guarded  # type: ignore[method-assign]
    parser.inline.parse = budgeted  # type: ignore[method-assign]
    parser.helpers = types.SimpleNamespace(**{**vars(helpers), "parseLinkLabel": bounded_label})
    return parser


def _environment(text: str) -> dict[str, Any]:
    """The parse budgets of one article."""
    return {"markup_left": MAX_INLINE_MARKUP, "label_left": LABEL_SCANS_PER_CHAR * len(text) + 1_000}


class _Reader:
    """Collects an article's sections while walking markdown-it's tokens."""

    def __init__(self) -> None:
        self.headings: list[str] = []  # in order, also kept in the body
        self.bullets: list[str] = []
        self.body: list[str] = []
        self.captions: list[str] = []
        self.in_script = False

    def caption(self, text: str) -> None:
        text = clean(text)
        if text and text not in self.captions and not is_file_name(text):
            self.captions.append(text)

    def inline_text(self, token: Token) -> str:
        """Plain text of an inline token: links as their text, tags dropped (and what a script holds),
        images as captions."""
        parts: list[str] = []
        for child in token.children or []:
            if child.type == "html_inline":
                script = _SCRIPT_TAG_RE.match(child.content)
                if script:
                    self.in_script = not script.group(1)
                elif _IMAGE_TAG_RE.match(child.content):
                    for caption in html_text(child.content).captions:
                        self.caption(caption)
                elif child.content.lower().startswith("<br"):
                    parts.append(" ")
            elif self.in_script:
                continue
            elif child.type == "code_inline" and looks_like_html(child.content):
                parts.append(" ".join(html_text(child.content).paragraphs))
            elif child.type in ("text", "code_inline", "text_special"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
            elif child.type == "image":
                for caption in (child.content, str(child.attrs.get("title") or "")):
                    self.caption(caption)
        return clean(visible_text("".join(parts)))  # markup Markdown did not take as HTML (a broken tag)

    def block_texts(self, token: Token) -> list[str]:
        """The paragraphs of one block token (raw HTML and code may hold several), without link syntax."""
        return [_BROKEN_LINK_RE.sub("]", _LINK_RE.sub(r"\1", text)) if "](" in text else text
                for text in self._block_texts(token)]

    def _block_texts(self, token: Token) -> list[str]:
        if token.type == "inline":
            return [self.inline_text(token)]
        if token.type == "html_block":
            return self.html(token.content)
        language = token.info.strip().split(" ")[0].lower() if token.type == "fence" else ""
        if language in _MARKUP_LANGUAGES or (not language and looks_like_html(token.content)):
            return [" ".join(self.html(token.content))]  # code keeps its words, not its markup
        return [clean(token.content)]

    def html(self, source: str) -> list[str]:
        found = html_text(source)
        for caption in found.captions:
            self.caption(caption)
        return [clean(p) for p in found.paragraphs]


def article_from_markdown(text: str, article_id: str, path: Path, notices: list[str] | None = None) -> Article:
    """Parse one Markdown article; what was understood only in part (a date) is added to `notices`."""
    notices = notices if notices is not None else []
    meta, source = split_front_matter(text)
    source, template_captions = strip_templates(source)
    env = _environment(source)
    reader = _Reader()
    list_depth = 0
    bullet_list_open = False  # inside the first, top-level bullet list that gives the bullets
    bullets_done = False
    heading_open = False
    text_seen = False  # a body paragraph other than a heading: a bullet list after it is body text
    for token in _parser().parse(source, env):
        if token.type == "heading_open":
            heading_open = True
        elif token.type == "heading_close":
            heading_open = False
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            if list_depth == 0 and token.type == "bullet_list_open" and not bullets_done and not text_seen:
                bullet_list_open = True
            list_depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
            if list_depth == 0 and bullet_list_open:
                bullet_list_open, bullets_done = False, True
        elif token.type in ("inline", "html_block", "code_block", "fence"):
            for content in reader.block_texts(token):
                if not content:
                    continue
                if heading_open:
                    reader.headings.append(content)
                if bullet_list_open:
                    reader.bullets.append(content)
                else:
                    reader.body.append(content)
                    text_seen = text_seen or not heading_open
    for caption in template_captions:
        reader.caption(caption)
    headline, body = _headline(meta, reader)
    bullets = reader.bullets or _leads(meta, env)
    if not headline and not body and not bullets and not reader.captions:
        raise BadArticle("no text (empty or whitespace only)")
    headline, body = fit_headline(headline, body)
    return Article(
        id=article_id,
        headline=headline,
        bullets=tuple(bullets),
        body=tuple(body),
        captions=tuple(reader.captions),
        date=_date(meta, path, notices),
        source=clean(fields.scalar_text(fields.first(meta, fields.SOURCE))) or None,
        url=clean(fields.scalar_text(fields.first(meta, fields.URL))) or None,
        categories=fields.categories(meta),
        path=path_text(path),
        authors=author_names(fields.first(meta, fields.AUTHORS)),
    )


def _headline(meta: dict[str, Any], reader: _Reader) -> tuple[str, list[str]]:
    """The front-matter title (its repeat as the first heading dropped), else the first heading, else
    the first paragraph."""
    body = list(reader.body)
    title = clean(visible_text(fields.scalar_text(fields.first(meta, ("title", "headline")))))
    if title:
        if reader.headings and _same(reader.headings[0], title) and reader.headings[0] in body:
            body.remove(reader.headings[0])
        return title, body
    if reader.headings:
        if reader.headings[0] in body:
            body.remove(reader.headings[0])
        return reader.headings[0], body
    return (body[0], body[1:]) if body else ("", body)


def _same(first: str, second: str) -> bool:
    return " ".join(first.casefold().split()) == " ".join(second.casefold().split())


def _leads(meta: dict[str, Any], env: dict[str, Any]) -> list[str]:
    """One bullet per description-like field (Markdown and entities read), duplicates dropped."""
    leads: list[str] = []
    for key in fields.LEADS:
        value = fields.scalar_text(meta.get(key))
        if value.strip():
            reader = _Reader()
            tokens = _parser().parseInline(strip_templates(value)[0], env)
            leads.append(clean(" ".join(t for token in tokens for t in reader.block_texts(token))))
    return fields.distinct(leads)


def _date(meta: dict[str, Any], path: Path, notices: list[str]) -> str | None:
    """The front-matter date as ISO 8601, else the date a `YYYY-MM-DD-` file name gives."""
    value = fields.first(meta, fields.DATE)
    if value is not None:
        try:
            return iso_date(value)
        except ValueError:
            notices.append(f"date {fields.scalar_text(value)[:80]!r} not understood; the file name's date or none is used")
    match = _FILE_DATE_RE.match(Path(path).name)
    if match:
        try:
            return iso_date(match.group(1))
        except ValueError:
            pass
    return None
