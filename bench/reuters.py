"""Convert Reuters-21578 (SGML, 22 files) into the project's JSONL format, one JSONL file per SGML file.

Usage: python bench/reuters.py SRC_DIR OUT_DIR
Every <REUTERS> document becomes one record: id `reuters-NEWID`, headline from <TITLE>, body
paragraphs from <BODY> (hard-wrapped lines joined; a line indented by spaces starts a paragraph;
the trailing "Reuter" sign-off dropped), ISO date, TOPICS as categories, source "Reuters".
Documents without <TITLE>/<BODY> (briefs, unprocessed items) take the text of <TEXT> instead.
"""
from __future__ import annotations

import html
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Iterator

_DOC_RE = re.compile(r"<REUTERS([^>]*)>(.*?)</REUTERS>", re.S)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SIGN_OFF_RE = re.compile(r"\s*Reuter\s*$")


def _element(name: str, text: str) -> str | None:
    match = re.search(rf"<{name}[^>]*>(.*?)</{name}>", text, re.S)
    return match.group(1) if match else None


def _unescape(text: str) -> str:
    return _CONTROL_RE.sub("", html.unescape(text))


def _paragraphs(text: str) -> list[str]:
    """Hard-wrapped newswire text to paragraphs: an indented line starts a new one."""
    paragraphs: list[list[str]] = []
    for line in _unescape(text).split("\n"):
        if not line.strip():
            continue
        if line.startswith((" ", "\t")) or not paragraphs:
            paragraphs.append([])
        paragraphs[-1].append(line.strip())
    joined = [" ".join(p) for p in paragraphs]
    if joined:
        joined[-1] = _SIGN_OFF_RE.sub("", joined[-1])
    return [p for p in joined if p]


def _date(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return datetime.strptime(raw.strip().split(".")[0], "%d-%b-%Y %H:%M:%S").isoformat()
    except ValueError:
        return None


def records(sgml: str) -> Iterator[dict]:
    for match in _DOC_RE.finditer(sgml):
        attributes, doc = match.groups()
        new_id = re.search(r'NEWID="(\d+)"', attributes).group(1)  # type: ignore[union-attr]
        text = _element("TEXT", doc) or ""
        title = _unescape(_element("TITLE", text) or "").strip()
        body = _element("BODY", text)
        if body is None:  # brief or unprocessed: the whole text, tags removed
            body = re.sub(r"<[^>]+>", " ", re.sub(r"<TITLE>.*?</TITLE>", "", text, flags=re.S))
        paragraphs = _paragraphs(body)
        if not title and paragraphs:
            title = paragraphs[0][:120]
        topics = re.findall(r"<D>(.*?)</D>", _element("TOPICS", doc) or "")
        yield {
            "id": f"reuters-{new_id}", "headline": title or f"Reuters item {new_id}",
            "body": "\n\n".join(paragraphs), "date": _date(_element("DATE", doc)),
            "source": "Reuters", "categories": topics,
        }


def convert(src: Path, out: Path) -> int:
    """Write one JSONL file per .sgm file; return the number of articles."""
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for sgm in sorted(src.glob("reut2-*.sgm")):
        sgml = sgm.read_bytes().decode("latin-1")
        with open(out / f"{sgm.stem}.jsonl", "w", encoding="utf-8") as stream:
            for record in records(sgml):
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
    return count


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.splitlines()[2])
    print(f"{convert(Path(sys.argv[1]), Path(sys.argv[2])):,} articles")
