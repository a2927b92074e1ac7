"""Saved web pages (`.html`, `.htm`): the article, not the page.

Main text and metadata come from trafilatura, the maintained extractor that leads the public
main-content benchmarks: telling an article's paragraphs from menus, cookie banners, related links, ads
and comments on every site's own markup is a research problem, not a few rules. On a Daily Mail page
(the founding article's) it keeps every paragraph and drops all the chrome, picks the published date
over the updated one (htmldate) and the headline without the site's name, in about 30 ms. Its author
names come without "By" and "for MailOnline", joined by "; " (split here, `indexer.bylines`).

trafilatura drops figure captions, so they are read here from the same parsed page first: `figcaption`
and table `caption` text, image alt text (never a file name), and paragraphs repeating an image's alt
text (the Daily Mail's `imageCaption`), which are captions, not body. A list before the first paragraph
is the bullets (the Daily Mail's standfirst list), else the page's description is.

Its time grows with the page's element count (about 0.3 ms per element), so a page of more than
MAX_ELEMENTS elements (real article pages have a few thousand) is read whole by `indexer.htmltext`
instead, which is linear and fast: nothing is lost, and a hostile page costs bounded time.
"""
from __future__ import annotations

from typing import Any, Iterator

from lxml import etree, html as lxml_html

from .dates import iso_date
from .errors import BadArticle
from .htmltext import INVISIBLE
from .models import Notice
from .readers import CorpusFile, ReadItem, _article, clean, fit_headline, path_text, read_text_file
from .bylines import SEMICOLONS, author_names

MAX_ELEMENTS = 20_000
_BLOCKS = ("p", "head", "quote", "item", "cell", "code")


def read_html(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    text = read_text_file(file.path, max_bytes)
    tree = parse_page(text)
    captions = page_captions(tree)
    count = sum(1 for _ in tree.iter())
    if count > MAX_ELEMENTS:
        yield whole_page(text, file, captions)
        yield Notice(path_text(file.path), f"page of {count:,} elements (over {MAX_ELEMENTS:,}): its whole visible "
                                           f"text is indexed, without telling the article from the rest of the page")
        return
    import trafilatura

    document = trafilatura.bare_extraction(tree, with_metadata=True, include_comments=False, include_images=True,
                                           include_tables=True, include_links=False)
    if document is None or document.body is None:
        raise BadArticle("no article text found on the page")
    headline = clean(document.title or "")
    blocks = list(_body_blocks(document.body))
    alts = {clean(a) for a in captions}
    bullets: list[str] = []
    while blocks and blocks[0][0] == "head" and (not headline or blocks[0][1] == headline):
        headline = headline or blocks[0][1]
        blocks.pop(0)
    while blocks and blocks[0][0] == "item":
        bullets.append(blocks.pop(0)[1])
    if not bullets and document.description:
        bullets = [clean(document.description)]
    body = []
    for _, paragraph in blocks:
        if paragraph in alts:
            continue  # the caption printed under its picture
        if paragraph not in bullets and paragraph != headline:
            body.append(paragraph)
    date = None
    if document.date:
        try:
            date = iso_date(document.date)
        except ValueError:
            date = None
    categories = tuple(dict.fromkeys(c for c in (clean(c) for c in document.categories or []) if c))
    yield _article(file.rel, headline, body, file.path, bullets=tuple(b for b in bullets if b), captions=tuple(captions),
                   date=date, source=clean(document.sitename or "") or None, url=document.url or None, categories=categories,
                   authors=author_names(document.author or "", split=SEMICOLONS))


def parse_page(text: str) -> Any:
    """The page parsed by lxml's HTML parser (libxml2: linear time, no network, no entity expansion)."""
    parser = lxml_html.HTMLParser(recover=True, no_network=True, remove_comments=True, remove_pis=True)
    try:
        tree = lxml_html.document_fromstring(text.replace("\x00", " "), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise BadArticle(f"not a readable HTML page: {exc}") from None
    if tree is None:
        raise BadArticle("not a readable HTML page")
    return tree


def page_captions(tree: Any) -> list[str]:
    """Figure and table captions and image alt text, each once, in page order (outside scripts and the like)."""
    from .templates import is_file_name

    found: list[str] = []
    for element in tree.iter("figcaption", "caption", "img"):
        if any(ancestor.tag in INVISIBLE for ancestor in element.iterancestors()):
            continue
        values = [element.get("alt"), element.get("title")] if element.tag == "img" else [" ".join(element.itertext())]
        for value in values:
            text = clean(value or "")
            if text and text not in found and not is_file_name(text):
                found.append(text)
    return found


def _body_blocks(body: Any) -> Iterator[tuple[str, str]]:
    """(kind, text) of each block trafilatura kept: headings, paragraphs, list items, quotes, cells."""
    for element in body.iter(*_BLOCKS):
        if element.tag != "item" and any(a.tag in _BLOCKS for a in element.iterancestors()):
            continue  # its text is read with the block holding it
        text = clean(" ".join(element.itertext()))
        if text:
            yield element.tag, text


def whole_page(text: str, file: CorpusFile, captions: list[str]):  # type: ignore[no-untyped-def]
    """A page too large for article extraction: title as headline, all visible text as the body."""
    from .htmltext import html_text

    found = html_text(text)
    paragraphs = [p for p in map(clean, found.paragraphs) if p and p not in captions]
    headline = paragraphs[0] if paragraphs else ""
    headline, body = fit_headline(headline, paragraphs[1:])
    return _article(file.rel, headline, body, file.path, captions=tuple(captions))
