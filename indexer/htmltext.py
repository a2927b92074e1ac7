"""The visible text of raw HTML, by a real HTML parser: paragraphs as a reader sees them, and captions.

lxml (libxml2's HTML parser, in C) is used rather than regular expressions or the standard library's
html.parser: it reads markup the way a browser does (`<div title="a > b">`, `<!-- <script> -->`,
unclosed tags, entities), and its time stays linear on hostile input, where html.parser in Python 3.11
takes minutes on 100 kB of `<a` (quadratic rescanning). Scripts, styles and other invisible elements
are dropped; block elements end a paragraph; figure captions and image alt text and titles are captions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from .errors import BadArticle

#: Elements whose content no reader sees.
INVISIBLE = frozenset({
    "script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math", "head", "title",
    "select", "canvas", "audio", "video", "map", "button", "textarea",
})
#: Elements that start and end a paragraph of their own.
BLOCKS = frozenset({
    "p", "div", "section", "article", "aside", "header", "footer", "main", "nav", "h1", "h2", "h3", "h4", "h5",
    "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "blockquote",
    "pre", "figure", "hr", "address", "details", "summary", "form", "fieldset", "legend", "center", "body", "html",
})
CAPTIONS = frozenset({"figcaption", "caption"})
#: Other common elements: with the above, the names that make `<name` markup rather than a placeholder
#: such as `git push origin <branch>`.
INLINE = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "img", "input", "kbd", "label", "link",
    "mark", "meta", "picture", "q", "s", "samp", "small", "source", "span", "strong", "sub", "sup", "time", "u",
    "var", "wbr", "br", "del", "ins", "option", "path", "g", "rect", "circle", "use", "col", "colgroup", "base",
})
_KNOWN = INVISIBLE | BLOCKS | CAPTIONS | INLINE
_TAG_NAME_RE = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])")
_UNPARSEABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


@dataclass
class HtmlText:
    """What a reader sees of an HTML fragment."""

    paragraphs: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)


def looks_like_html(text: str) -> bool:
    """True when the text holds a tag of a known HTML element (code showing markup, not `<branch>`)."""
    return "<" in text and any(name.lower() in _KNOWN for name in _TAG_NAME_RE.findall(text))


def visible_text(text: str) -> str:
    """The text with any HTML in it reduced to what a browser shows (one paragraph)."""
    return " ".join(html_text(text).paragraphs) if looks_like_html(text) else text


def html_text(fragment: str) -> HtmlText:
    """Paragraphs and captions of an HTML fragment, entities decoded, spaces collapsed.

    Nesting deeper than libxml2 reads (2,048 elements) raises BadArticle rather than losing the rest.
    """
    found = HtmlText()
    if "<" not in fragment and "&" not in fragment:
        text = " ".join(fragment.split())
        if text:
            found.paragraphs.append(text)
        return found
    parser = etree.HTMLParser(recover=True, huge_tree=True, no_network=True, remove_comments=True, remove_pis=True)
    root = etree.HTML(f"<html><body>{_UNPARSEABLE_RE.sub(' ', fragment)}</body></html>", parser)
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
        raise BadArticle("HTML nested too deeply to read (over 2,048 elements inside each other)")
    if root is not None:
        _walk(root, found)
    return found


def _walk(root: etree._Element, found: HtmlText) -> None:
    """Depth-first over the tree without recursion (HTML may nest 2,048 deep)."""
    current: list[str] = []  # text of the paragraph being read
    caption_depth = 0

    def flush() -> None:
        text = " ".join("".join(current).split())
        current.clear()
        if text:
            (found.captions if caption_depth else found.paragraphs).append(text)

    stack: list[tuple[etree._Element, bool]] = [(root, False)]
    while stack:
        element, closing = stack.pop()
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if closing:
            if tag in BLOCKS or tag in CAPTIONS:
                flush()
            if tag in CAPTIONS:
                caption_depth -= 1
            if element.tail:
                current.append(element.tail)
            continue
        if tag in INVISIBLE or not tag:
            if element.tail:
                current.append(element.tail)
            continue
        if tag in BLOCKS or tag in CAPTIONS:
            flush()
        if tag in CAPTIONS:
            caption_depth += 1
        if tag == "img":
            for name in ("alt", "title"):
                text = " ".join((element.get(name) or "").split())
                if text and text not in found.captions:
                    found.captions.append(text)
        elif tag == "br":
            current.append(" ")
        if element.text:
            current.append(element.text)
        stack.append((element, True))
        stack.extend((child, False) for child in reversed(element))
    flush()
