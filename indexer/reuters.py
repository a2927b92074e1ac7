"""Reuters-21578 SGML (`.sgm`): one article per `<REUTERS>` document.

The collection's files are SGML, not XML (unquoted attributes are legal, `&#2;` control characters mark
the wire's framing), so no XML parser reads them; the layout is fixed and simple, and is read by
searching for tags with `str.find`, which keeps the time linear on any input (a regular expression's
lazy `.*?` would rescan to the end of the file for every unclosed tag).

Each document: id `<file>#<NEWID>`; headline `TITLE`; body `BODY`, hard-wrapped lines joined (a line
indented by spaces starts a paragraph; the trailing "Reuter" sign-off dropped); documents without
`TITLE`/`BODY` (briefs, unprocessed items) take the text of `TEXT`; `DATE` as ISO 8601; `TOPICS` and
`PLACES` as categories; source "Reuters"; authors from `AUTHOR` (875 documents: "By Cal Mankowski,
Reuters", "By STEPHEN JUKES AND PHILIP SHEHADI, REUTERS"), the agency's name dropped.
"""
from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Iterator

from .errors import BadArticle
from .models import Skipped
from .readers import JSON_FILE_CAPS, CorpusFile, ReadItem, _article, _unique, path_text, read_text_file
from .bylines import author_names

SOURCE = "Reuters"
_START_RE = re.compile(r"<REUTERS\b([^<>]{0,2000})>", re.IGNORECASE)
_NEWID_RE = re.compile(r'\bNEWID\s*=\s*"?(\d+)', re.IGNORECASE)
_TAG_RE = re.compile(r"<[^<>]*>")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SIGN_OFF_RE = re.compile(r"\s*Reuters?\s*$")
_D_RE = re.compile(r"<D>([^<]*)</D>", re.IGNORECASE)


def read_sgml(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """Every document of a Reuters-21578 file; one without an end tag, id or text is skipped by its line."""
    text = read_text_file(file.path, max_bytes * JSON_FILE_CAPS)
    seen: set[str] = set()
    line, counted = 1, 0
    position = 0
    found = False
    while (start := _START_RE.search(text, position)) is not None:
        found = True
        line += text.count("\n", counted, start.start())
        counted = start.start()
        end = text.find("</REUTERS>", start.end())
        if end < 0:
            end = _upper_find(text, "</REUTERS>", start.end())
        try:
            if end < 0:
                raise BadArticle("document has no </REUTERS> end tag: the rest of the file is not read")
            match = _NEWID_RE.search(start.group(1))
            if match is None:
                raise BadArticle("document has no NEWID attribute")
            yield _unique(document(text[start.end():end], f"{file.rel}#{match.group(1)}", file, line), seen)
        except BadArticle as exc:
            yield Skipped(path_text(file.path), f"document {_id_text(start.group(1))}: {exc}", line)
        if end < 0:
            return
        position = end + len("</REUTERS>")
    if not found:
        raise BadArticle("no <REUTERS> documents (not a Reuters-21578 SGML file)")


def _upper_find(text: str, tag: str, start: int) -> int:
    """Tags in any case (SGML is case-insensitive), looked for only when the usual upper case is absent."""
    match = re.compile(re.escape(tag), re.IGNORECASE).search(text, start)
    return match.start() if match else -1


def _id_text(attributes: str) -> str:
    match = _NEWID_RE.search(attributes)
    return f"NEWID {match.group(1)}" if match else "without NEWID"


def document(doc: str, article_id: str, file: CorpusFile, line: int):  # type: ignore[no-untyped-def]
    """One `<REUTERS>` document's content as an Article."""
    text = element(doc, "TEXT") or ""
    title = _unescape(element(text, "TITLE") or "").strip()
    authors = author_names(_unescape(element(text, "AUTHOR") or ""), drop=("Reuters", "Reuter"))
    body = element(text, "BODY")
    if body is None:  # a brief or an unprocessed item: the whole text, tags removed
        body = _TAG_RE.sub(" ", _without(_without(text, "TITLE"), "AUTHOR"))
    paragraphs = newswire_paragraphs(body)
    if not title and paragraphs:
        title, paragraphs = paragraphs[0], paragraphs[1:]
    categories: list[str] = []
    for name in ("TOPICS", "PLACES"):
        categories += [c.strip() for c in _D_RE.findall(element(doc, name) or "") if c.strip() and c.strip() not in categories]
    return _article(article_id, " ".join(title.split()), paragraphs, file.path, line=line, date=wire_date(element(doc, "DATE")),
                    source=SOURCE, categories=tuple(categories), authors=authors)


def element(text: str, name: str) -> str | None:
    """The content of the first `<name ...>...</name>` in `text` (None if absent or unclosed)."""
    opening = re.search(rf"<{name}\b[^<>]{{0,2000}}>", text, re.IGNORECASE)
    if opening is None:
        return None
    end = text.find(f"</{name}>", opening.end())
    return text[opening.end():end] if end >= 0 else None


def _without(text: str, name: str) -> str:
    content = element(text, name)
    return text.replace(f"<{name}>{content}</{name}>", " ", 1) if content is not None else text


def _unescape(text: str) -> str:
    return _CONTROL_RE.sub("", html.unescape(text))


def newswire_paragraphs(text: str) -> list[str]:
    """Hard-wrapped newswire text to paragraphs: an indented line starts a new one."""
    paragraphs: list[list[str]] = []
    for line in _unescape(text).split("\n"):
        if not line.strip():
            continue
        if line.startswith((" ", "\t")) or not paragraphs:
            paragraphs.append([])
        paragraphs[-1].append(line.strip())
    joined = [" ".join(" ".join(p).split()) for p in paragraphs]
    if joined:
        joined[-1] = _SIGN_OFF_RE.sub("", joined[-1])
    return [p for p in joined if p]


def wire_date(raw: str | None) -> str | None:
    """`26-FEB-1987 15:01:01.79` as `1987-02-26T15:01:01`; None when absent or not in that form."""
    if not raw:
        return None
    try:
        return datetime.strptime(raw.strip().split(".")[0], "%d-%b-%Y %H:%M:%S").isoformat()
    except ValueError:
        return None
