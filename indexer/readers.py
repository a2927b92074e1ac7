"""Readers: turn article files (.txt, .md, .jsonl, .story) into `Article`s.

Each reader yields `Article` or `Skipped` items, so one broken record never stops the rest.
`iter_corpus` walks corpus folders and picks the reader by file suffix.
"""
from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .errors import BadArticle
from .models import Article, Skipped

ReadItem = Article | Skipped

#: File names that describe a corpus rather than hold an article (compared upper-case, by stem).
NOT_ARTICLES = frozenset({"README", "SOURCE", "LICENSE", "LICENCE", "CHANGELOG", "COPYING", "NOTICE"})

_BULLET_RE = re.compile(r"^\s*[•\-*]\s+")
_BLANK_LINE_RE = re.compile(r"\n\s*\n")
_SPACES_RE = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


@dataclass(frozen=True)
class CorpusFile:
    """One article file found under a corpus root."""

    path: Path
    root: Path
    size: int
    mtime_ns: int

    @property
    def rel(self) -> str:
        return self.path.relative_to(self.root).as_posix()


# --- text helpers -------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """Decode article bytes: BOMs honoured, UTF-8, else cp1252, else Latin-1 (never fails)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def clean(text: str) -> str:
    """HTML entities decoded, odd spaces and line breaks collapsed to one space, trimmed."""
    if "&" in text:
        text = html.unescape(text)
    return _SPACES_RE.sub(" ", text.replace("\r", " ").replace("\n", " ")).strip()


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, cleaned, empty ones dropped."""
    return [p for p in (clean(block) for block in _BLANK_LINE_RE.split(text.replace("\r\n", "\n"))) if p]


def split_captions(paras: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split paragraphs into body and captions: a paragraph repeated right after itself is a caption."""
    body: list[str] = []
    captions: list[str] = []
    previous: str | None = None
    for para in paras:
        if para == previous:
            if body and body[-1] == para:
                body.pop()
                captions.append(para)
        else:
            body.append(para)
        previous = para
    return body, captions


def read_text_file(path: Path, max_bytes: int) -> str:
    """Read and decode a file, refusing binaries and oversized files with a clear reason."""
    size = path.stat().st_size
    if size > max_bytes:
        raise BadArticle(f"file is {size:,} bytes, over the {max_bytes:,}-byte article size cap")
    data = path.read_bytes()
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadArticle("binary file (contains NUL bytes)")
    text = decode(data)
    if "\x00" in text:
        raise BadArticle("binary file (contains NUL characters)")
    return text


def _text_list(value: Any, what: str) -> tuple[str, ...]:
    """A list of strings from a JSON/YAML value, cleaned (a single string counts as one item)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise BadArticle(f"{what} must be a list of strings")
    return tuple(c for c in (clean(str(v)) for v in value) if c)


def _optional_text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (str, int, float)) or hasattr(value, "isoformat"):
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return clean(text) or None
    raise BadArticle(f"{what} must be a string")


def _article(article_id: str, headline: str, body: list[str], path: Path, **meta: Any) -> Article:
    """Build an Article, refusing ones with no text at all."""
    if not headline and not body and not meta.get("bullets") and not meta.get("captions"):
        raise BadArticle("no text (empty or whitespace only)")
    return Article(id=article_id, headline=headline, body=tuple(body), path=str(path), **meta)


# --- readers ------------------------------------------------------------------------------------


def read_txt(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """The founding article's layout: headline line, bullet lines, body paragraphs, doubled captions."""
    text = read_text_file(file.path, max_bytes)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    headline = clean(lines[index]) if index < len(lines) else ""
    index += 1
    bullets: list[str] = []
    while index < len(lines):
        line = lines[index]
        if _BULLET_RE.match(line):
            bullets.append(clean(_BULLET_RE.sub("", line)))
        elif line.strip() and bullets:
            bullets[-1] = f"{bullets[-1]} {clean(line)}"  # a bullet wrapped onto the next line
        elif line.strip():
            break
        elif bullets and index + 1 < len(lines) and lines[index + 1].strip() and not _BULLET_RE.match(lines[index + 1]):
            break
        index += 1
    body, captions = split_captions(paragraphs("\n".join(lines[index:])))
    yield _article(file.rel, headline, body, file.path, bullets=tuple(b for b in bullets if b), captions=tuple(captions))


def read_story(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """CNN/DailyMail `.story`: body paragraphs, then `@highlight` markers each followed by a bullet.

    A story has no headline of its own; its first highlight serves as the headline.
    """
    text = read_text_file(file.path, max_bytes)
    head, _, tail = text.partition("@highlight")
    highlights = [clean(p) for p in ("@highlight" + tail).split("@highlight") if clean(p)] if tail else []
    body, captions = split_captions(paragraphs(head))
    headline = highlights[0] if highlights else ""
    if not headline and body:
        headline, body = body[0], body[1:]
    yield _article(file.rel, headline, body, file.path, bullets=tuple(highlights[1:]), captions=tuple(captions))


def read_jsonl(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """One article per line; a broken line is reported with its line number and skipped."""
    seen: set[str] = set()
    with open(file.path, "rb") as stream:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            try:
                if len(raw) > max_bytes:
                    raise BadArticle(f"record is {len(raw):,} bytes, over the {max_bytes:,}-byte article size cap")
                try:
                    record = json.loads(decode(raw))
                except json.JSONDecodeError as exc:
                    raise BadArticle(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
                article = article_from_record(record, f"{file.rel}:{number}", file.path, number)
                if article.id in seen:
                    raise BadArticle(f"duplicate id {article.id!r} in this file")
                seen.add(article.id)
                yield article
            except (BadArticle, RecursionError, ValueError) as exc:
                yield Skipped(str(file.path), str(exc) or type(exc).__name__, number)


def article_from_record(record: Any, default_id: str, path: Path, line: int | None = None) -> Article:
    """An Article from a JSON object with headline/bullets|highlights/description/body/metadata."""
    if not isinstance(record, dict):
        raise BadArticle("record is not a JSON object")
    headline = _optional_text(record.get("headline", record.get("title")), "headline") or ""
    bullets = _text_list(record.get("bullets") or record.get("highlights"), "bullets")
    if not bullets:
        bullets = _text_list(record.get("description"), "description")
    body_value = record.get("body", record.get("text"))
    if body_value is not None and not isinstance(body_value, str):
        raise BadArticle("body must be a string")
    body, captions = split_captions(paragraphs(body_value or ""))
    article_id = _optional_text(record.get("id"), "id") or default_id
    return _article(
        article_id, headline, body, path, line=line,
        bullets=bullets, captions=tuple(captions),
        date=_optional_text(record.get("date"), "date"),
        source=_optional_text(record.get("source"), "source"),
        url=_optional_text(record.get("url"), "url"),
        categories=_text_list(record.get("categories"), "categories"),
    )


def read_md(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """Markdown via markdown-it-py; see `indexer.markdown` for the mapping to sections."""
    from .markdown import article_from_markdown

    text = read_text_file(file.path, max_bytes)
    yield article_from_markdown(text, file.rel, file.path)


READERS: dict[str, Callable[[CorpusFile, int], Iterator[ReadItem]]] = {
    ".txt": read_txt,
    ".md": read_md,
    ".markdown": read_md,
    ".jsonl": read_jsonl,
    ".story": read_story,
}


def is_article_file(path: Path) -> bool:
    """True for a file whose suffix has a reader and whose name is not corpus documentation."""
    return (
        path.suffix.lower() in READERS
        and not path.name.startswith(".")
        and path.stem.upper() not in NOT_ARTICLES
    )


def read_file(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """All articles of one file; any failure becomes a `Skipped` naming the file and the reason."""
    reader = READERS[file.path.suffix.lower()]
    try:
        yield from reader(file, max_bytes)
    except BadArticle as exc:
        yield Skipped(str(file.path), str(exc))
    except RecursionError:
        yield Skipped(str(file.path), "structure nested too deeply to parse")
    except OSError as exc:
        yield Skipped(str(file.path), f"cannot read: {exc.strerror or exc}")


def find_files(roots: Iterable[Path], follow_symlinks: bool = False) -> tuple[list[CorpusFile], list[Skipped]]:
    """Article files under the roots, sorted; symlinks are not followed unless asked."""
    files: list[CorpusFile] = []
    problems: list[Skipped] = []
    for root in roots:
        root = Path(root).resolve()
        if root.is_file():
            _add_file(root, root.parent, files, problems, follow_symlinks)
            continue
        if not root.is_dir():
            problems.append(Skipped(str(root), "corpus folder does not exist"))
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=follow_symlinks, onerror=lambda e: problems.append(Skipped(str(e.filename), f"cannot list folder: {e.strerror}"))):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                _add_file(Path(dirpath) / name, root, files, problems, follow_symlinks)
    return files, problems


def _add_file(path: Path, root: Path, files: list[CorpusFile], problems: list[Skipped], follow_symlinks: bool) -> None:
    if not is_article_file(path):
        return
    if path.is_symlink():
        target = path.resolve()
        if not follow_symlinks:
            problems.append(Skipped(str(path), "symbolic link, not followed (see follow_symlinks)"))
            return
        if not target.is_relative_to(root):
            problems.append(Skipped(str(path), "symbolic link pointing outside the corpus folder"))
            return
    try:
        stat = path.stat()
    except OSError as exc:
        problems.append(Skipped(str(path), f"cannot read: {exc.strerror or exc}"))
        return
    if not path.is_file():
        return
    files.append(CorpusFile(path, root, stat.st_size, stat.st_mtime_ns))
