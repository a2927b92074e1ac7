"""IPTC NewsML-G2: a `newsItem` (one story) or a `newsMessage` (an `itemSet` of them), in `.xml` files.

A text item is an article: `contentMeta/headline` the headline, its summary `description` the bullet,
the story in `contentSet` as inline NITF (read by the NITF reader), inline XHTML or inline plain text,
`contentCreated` (else `firstCreated`, else `versionCreated`) the date, subject names and keywords the
categories, the provider the source, the `creator` names (else the `by` line) the authors. Items without text (pictures, graphics, packages, concepts) carry no
story and are reported as skipped. Parsed by lxml with entities, DTDs and the network off.
"""
from __future__ import annotations

from typing import Any, Iterator

from lxml import etree

from .errors import BadArticle
from .models import Article, Skipped
from .readers import CorpusFile, ReadItem, _article, _unique, clean, paragraphs, path_text
from .bylines import author_names
from .feeds import _local, _without_declaration, nitf_article, nitf_date, safe_xml_parser

#: Summary roles of `description` (IPTC's description-role scheme); any role when the item has no body.
SUMMARY_ROLES = frozenset({"drol:summary", "drol:abstract", "drol:headline", ""})


def newsml_articles(data: bytes, file: CorpusFile) -> Iterator[ReadItem]:
    """Each text item of a NewsML-G2 document. A lone `newsItem` keeps the file's id, as NITF does;
    items of a `newsMessage` are identified by their `guid` (else `<file>#<number>`)."""
    try:
        root = etree.fromstring(_without_declaration(data), safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise BadArticle(f"not well-formed XML: {exc}") from None
    if _local(root.tag) == "newsitem":
        yield item_article(root, file, file.rel)
        return
    items = [e for e in root.iter() if _local(e.tag) in ("newsitem", "packageitem", "conceptitem", "knowledgeitem")]
    if not items:
        raise BadArticle("a NewsML-G2 message without items")
    seen: set[str] = set()
    where = path_text(file.path)
    for number, item in enumerate(items, 1):
        try:
            yield _unique(item_article(item, file, item.get("guid") or f"{file.rel}#{number}"), seen)
        except BadArticle as exc:
            yield Skipped(where, f"item {number}: {exc}")


def item_article(item: Any, file: CorpusFile, article_id: str) -> Article:
    """One `newsItem` as an Article; a non-text item is a BadArticle with the item class as reason."""
    if _local(item.tag) != "newsitem":
        raise BadArticle(f"a {etree.QName(item).localname}, not a news item")
    meta, content = _child(item, "itemmeta"), _child(item, "contentmeta")
    item_class = _child(meta, "itemclass")
    kind = (item_class.get("qcode", "") if item_class is not None else "").lower().split(":")[-1]
    if kind not in ("text", ""):  # ninat:picture, ninat:graphic, ninat:video...
        raise BadArticle(f"a {kind} item, without text")
    headline = " ".join(_texts(content, "headline")[:1])
    summaries = [(d.get("role") or "").lower() for d in _children(content, "description")]
    described = [text for text, role in zip(_texts(content, "description"), summaries) if role in SUMMARY_ROLES]
    body, bullets, captions, nitf = _story(item, file)
    if not body:
        body, described = described, []
    categories = [_name(subject, code=False) for subject in _children(content, "subject")] + _texts(content, "keyword")
    dates = [_texts(content, "contentcreated"), _texts(meta, "firstcreated"), _texts(meta, "versioncreated")]
    date = next((d for d in (nitf_date(ds[0]) for ds in dates if ds) if d), None)
    provider = _child(meta, "provider")
    source = clean((provider.get("literal") or _name(provider) or provider.get("qcode", "").split(":")[-1])
                   if provider is not None else "") or None
    creators = [c.get("literal") or _name(c, code=False) for c in _children(content, "creator")]
    authors = author_names([c for c in creators if c]) or author_names(" ".join(_texts(content, "by")))
    if nitf is not None:  # inline NITF: its own head fills what the item's metadata leaves out
        headline = headline or nitf.headline
        date, source = date or nitf.date, source or nitf.source
        categories += list(nitf.categories)
        authors = authors or nitf.authors
    return _article(article_id, clean(headline), body, file.path, bullets=tuple(bullets or described[:1]),
                    captions=tuple(captions), date=date, source=source,
                    categories=tuple(dict.fromkeys(c for c in map(clean, categories) if c)), authors=authors)


def _story(item: Any, file: CorpusFile) -> tuple[list[str], list[str], list[str], Article | None]:
    """Body paragraphs, bullets and captions of the item's first text content, and the inline NITF
    article when the story is NITF."""
    from .htmltext import html_text

    content_set = _child(item, "contentset")
    for content in _children(content_set, "inlinexml"):
        inner = next((e for e in content if isinstance(e.tag, str)), None)
        if inner is None:
            continue
        if _local(inner.tag) == "nitf":
            try:
                nitf = nitf_article(etree.tostring(inner), file)
            except BadArticle:
                continue
            return list(nitf.body), list(nitf.bullets), list(nitf.captions), nitf
        found = html_text(etree.tostring(inner, encoding="unicode"))
        return [p for p in map(clean, found.paragraphs) if p], [], [c for c in map(clean, found.captions) if c], None
    for content in _children(content_set, "inlinedata"):
        if (content.get("contenttype") or "text/plain").startswith("text/plain"):
            return paragraphs(content.text or ""), [], [], None
    return [], [], [], None


def _children(parent: Any, name: str) -> list[Any]:
    return [] if parent is None else [e for e in parent if _local(e.tag) == name]


def _child(parent: Any, name: str) -> Any:
    found = _children(parent, name)
    return found[0] if found else None


def _texts(parent: Any, name: str) -> list[str]:
    return [t for t in (clean(" ".join(e.itertext())) for e in _children(parent, name)) if t]


def _name(element: Any, code: bool = True) -> str:
    """A subject's or provider's readable name: its English `name`, else its first, else (with `code`)
    its qcode's code (a subject's bare code, "20000137", means nothing to a reader)."""
    names = _children(element, "name")
    english = [n for n in names if (n.get("{http://www.w3.org/XML/1998/namespace}lang") or "en").startswith("en")]
    chosen = (english or names)[:1]
    if chosen:
        return clean(" ".join(chosen[0].itertext()))
    return (element.get("qcode") or "").split(":")[-1] if code else ""
