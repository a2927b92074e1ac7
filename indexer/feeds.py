"""News feeds and wire XML: RSS 2.0, RSS 1.0 and Atom (`.rss`, `.atom`), IPTC NITF, and `.xml` by its root.

Feeds are read by feedparser, the maintained library that copes with the real feeds' broken XML, mixed
RSS dialects and date forms (a hand-written parser would meet each of those one bug report at a time).
It never fetches anything here: it is handed the file's bytes, never a name or address, and it drops
entity declarations from a DOCTYPE before parsing, so an XML bomb or an external entity is neither
expanded nor fetched. NITF is read by lxml with entity resolution, DTD loading and the network off.

Each feed item is an article: title; summary or description as the bullet (as the body when the item has
no content of its own and its description runs over a paragraph); `content:encoded`/`content` as the
body, HTML reduced to its text; published date (else updated); categories; link; authors (an Atom
entry without any has the feed's); the feed's title as source. Its id is the item's `guid`/`id`, else its
link, else `<file>#<number>`.
"""
from __future__ import annotations

import io
import re
from typing import Any, Iterator

from lxml import etree

from .dates import iso_date
from .errors import BadArticle
from .models import Notice, Skipped
from .readers import (JSON_FILE_CAPS, CorpusFile, ReadItem, RecordNotes, _article, _unique, clean, path_text,
                      read_text_file, split_captions)
from .bylines import author_names

FEED_ROOTS = frozenset({"rss", "rdf", "feed", "channel"})
NITF_ROOTS = frozenset({"nitf"})
NEWSML_ROOTS = frozenset({"newsitem", "newsmessage"})
#: A description longer than this, with no content beside it, is the item's body rather than its bullet.
BULLET_CHARS = 600


def safe_xml_parser() -> etree.XMLParser:
    """An lxml parser that never expands entities, loads a DTD or reaches the network, and refuses
    documents past libxml2's default size and depth limits (huge_tree off)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def _local(tag: Any) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def root_name(data: bytes) -> str:
    """The local name of the XML document's root element, lower-case, read from its start only."""
    events = etree.iterparse(io.BytesIO(data), events=("start",), resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False)
    try:
        for _, element in events:
            return _local(element.tag)
    except etree.XMLSyntaxError as exc:
        raise BadArticle(f"not well-formed XML: {exc}") from None
    raise BadArticle("XML without a root element")


def read_xml(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """An `.xml` file by its root element: a feed (`rss`, `rdf:RDF`, `feed`), an NITF article or NewsML-G2."""
    data = read_text_file(file.path, max_bytes * JSON_FILE_CAPS).encode("utf-8")
    name = root_name(_without_declaration(data))
    if name in FEED_ROOTS:
        yield from feed_articles(data, file)
    elif name in NITF_ROOTS:
        yield nitf_article(data, file)
    elif name in NEWSML_ROOTS:
        from .newsml import newsml_articles

        yield from newsml_articles(data, file)
    else:
        raise BadArticle(f"XML whose root element <{name}> is neither a news feed (RSS, Atom), an NITF article "
                         "nor a NewsML-G2 item")


def read_feed(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """An `.rss` or `.atom` file."""
    yield from feed_articles(read_text_file(file.path, max_bytes * JSON_FILE_CAPS).encode("utf-8"), file)


_DECLARATION_RE = re.compile(rb"^\s*<\?xml[^>]*\?>")


def _without_declaration(data: bytes) -> bytes:
    """The text as decoded UTF-8 without its `<?xml encoding=...?>` line, which may name another encoding."""
    return _DECLARATION_RE.sub(b"", data, count=1)


def feed_articles(data: bytes, file: CorpusFile) -> Iterator[ReadItem]:
    import feedparser

    if not data.strip():
        raise BadArticle("no text (empty or whitespace only)")
    parsed = feedparser.parse(io.BytesIO(_without_declaration(data)), sanitize_html=False, resolve_relative_uris=False)
    entries = parsed.get("entries") or []
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not entries:
        reason = f"not a readable feed: {problem}" if problem else "a feed without items"
        raise BadArticle(reason)
    where = path_text(file.path)
    if problem is not None:
        yield Notice(where, f"feed is not well-formed XML ({problem}): read leniently")
    source = clean(_text(parsed.get("feed", {}).get("title"))) or None
    # Atom: an entry without an author has the feed's (RFC 4287, 4.2.1); an RSS channel names none
    feed_authors = entry_authors(parsed.get("feed", {})) if str(parsed.get("version", "")).startswith("atom") else ()
    seen: set[str] = set()
    notes = RecordNotes()
    for number, entry in enumerate(entries, 1):
        try:
            yield _unique(entry_article(entry, number, file, source, notes, feed_authors), seen)
        except (BadArticle, ValueError) as exc:
            yield Skipped(where, f"item {number}: {exc}")
    yield from notes.notices(file.path)


def entry_authors(entry: Any) -> tuple[str, ...]:
    """The names of an item's authors: feedparser's `authors` (Atom `author`/`contributor` names,
    `dc:creator`, RSS `author` without its e-mail address). One name may list several
    ("Jane Smith and Bob Jones"); an author given by e-mail address only is no name."""
    names = [a.get("name") for a in entry.get("authors") or [] if isinstance(a, dict) and isinstance(a.get("name"), str)]
    return author_names(names[0] if len(names) == 1 else names)


def entry_article(entry: Any, number: int, file: CorpusFile, source: str | None, notes: RecordNotes,  # type: ignore[no-untyped-def]
                  feed_authors: tuple[str, ...] = ()):
    """One feed item (a feedparser entry) as an Article."""
    from .htmltext import visible_text

    headline = clean(visible_text(_text(entry.get("title"))))
    contents = [c.get("value") or "" for c in entry.get("content") or [] if isinstance(c, dict)]
    summary = _text(entry.get("summary"))
    body, captions = _html_paragraphs("\n".join(contents))
    lead, lead_captions = _html_paragraphs(summary)
    bullets: list[str] = []
    if body:
        if lead and lead != body[:len(lead)]:  # Atom copies content into summary when it has none
            bullets = [" ".join(lead)]
    elif len(lead) == 1 and len(lead[0]) <= BULLET_CHARS:
        bullets = lead
    else:
        body, captions = lead, lead_captions
    date = None
    raw_date = entry.get("published") or entry.get("updated")
    if raw_date:
        try:
            date = iso_date(raw_date)
        except ValueError:
            notes.bad_dates.append((None, str(raw_date)[:80]))
    categories: list[str] = []
    for tag in entry.get("tags") or []:
        name = clean(_text(tag.get("term") or tag.get("label")))
        if name and name.casefold() not in {c.casefold() for c in categories}:
            categories.append(name)
    link = clean(_text(entry.get("link")))
    link = link if link.startswith(("http://", "https://")) else None  # feedparser copies a tag: id into link
    article_id = clean(_text(entry.get("id"))) or link or f"{file.rel}#{number}"
    return _article(article_id, headline, body, file.path, bullets=tuple(bullets), captions=tuple(captions),
                    date=date, source=source, url=link, categories=tuple(categories),
                    authors=entry_authors(entry) or feed_authors)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _html_paragraphs(text: str) -> tuple[list[str], list[str]]:
    """Body paragraphs and captions of feed text (HTML, or plain text split at blank lines)."""
    from .htmltext import html_text, looks_like_html
    from .readers import paragraphs

    if not text.strip():
        return [], []
    if looks_like_html(text):
        found = html_text(text)
        return [p for p in map(clean, found.paragraphs) if p], [c for c in map(clean, found.captions) if c]
    return split_captions(paragraphs(text))


# --- NITF ---------------------------------------------------------------------------------------

_BASIC_DATE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?)?(Z|[+-]\d{4})?$")


def nitf_date(value: str | None) -> str | None:
    """NITF's `norm` dates are ISO 8601 basic (`20020501T134500-0500`); extended forms are read too."""
    if not value:
        return None
    match = _BASIC_DATE_RE.match(value.strip())
    if match:
        year, month, day, hour, minute, second, zone = match.groups()
        value = f"{year}-{month}-{day}" + (f"T{hour}:{minute}:{second or '00'}{zone or ''}" if hour else "")
    try:
        return iso_date(value)
    except ValueError:
        return None


def nitf_article(data: bytes, file: CorpusFile):  # type: ignore[no-untyped-def]
    """An IPTC NITF document: hedline/hl1 headline, abstract bullets, body.content paragraphs,
    media-caption captions, date.issue date, key-list keywords and tobject subjects as categories,
    the byline's authors."""
    try:
        root = etree.fromstring(_without_declaration(data), safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise BadArticle(f"not well-formed XML: {exc}") from None
    for element in root.iter():  # NITF 3.x may be namespaced: match by local names
        if isinstance(element.tag, str):
            element.tag = etree.QName(element).localname
    head = root.find("head")
    body_head = root.find("body/body.head")

    def texts(path: str, parent: Any = root) -> list[str]:
        return [t for t in (clean(" ".join(e.itertext())) for e in (parent.findall(path) if parent is not None else [])) if t]

    headline = " ".join(texts("hedline/hl1", body_head)) or " ".join(texts("title", head))
    abstract = body_head.find("abstract") if body_head is not None else None
    bullets = (texts("p", abstract) or texts(".", abstract)) if abstract is not None else []
    captions = texts(".//media-caption")
    content = root.find("body/body.content")
    paragraphs: list[str] = []
    if content is not None:
        for media in content.findall(".//media"):
            media.getparent().remove(media)
        paragraphs = texts(".//p", content) or texts(".", content)
    docdata = head.find("docdata") if head is not None else None
    date = None
    for path in ("date.issue", "date.release"):
        found = docdata.find(path) if docdata is not None else None
        if found is not None and (date := nitf_date(found.get("norm"))):
            break
    if date is None and body_head is not None:
        found = body_head.find("dateline/story.date")
        date = nitf_date(found.get("norm") if found is not None else None)
    categories: list[str] = []
    for element in root.iterfind(".//key-list/keyword"):
        categories.append(clean(element.get("key") or ""))
    for element in root.iterfind(".//tobject.subject"):
        categories.append(clean(element.get("tobject.subject-matter") or element.get("tobject.subject-type") or ""))
    pubdata = head.find("pubdata") if head is not None else None
    source = clean((pubdata.get("name") if pubdata is not None else None) or " ".join(texts("distributor", body_head))) or None
    return _article(file.rel, headline, paragraphs, file.path, bullets=tuple(bullets), captions=tuple(captions), date=date,
                    source=source, categories=tuple(dict.fromkeys(c for c in categories if c)),
                    authors=nitf_authors(body_head))


def nitf_authors(body_head: Any) -> tuple[str, ...]:
    """The names of `body.head/byline`: its `person` elements when it marks them, else its text without
    the writer's title (`byttl`: "By RAHIM FAIEZ <byttl>Associated Press</byttl>")."""
    names: list[str] = []
    for byline in body_head.findall("byline") if body_head is not None else []:
        people = [" ".join(p.itertext()) for p in byline.iter("person")]
        if people:
            names += people
            continue
        names += author_names(_text_without(byline, "byttl"))
    return author_names(names)


def _text_without(element: Any, skipped: str) -> str:
    """The element's text without that of its `skipped` descendants (their tails are kept)."""
    parts = [] if element.tag == skipped else [element.text or ""]
    for child in element:
        if child.tag != skipped:
            parts.append(_text_without(child, skipped))
        parts.append(child.tail or "")
    return " ".join(parts)
