"""Readers: turn article files (.txt, .md, .jsonl, .story) into `Article`s.

Each reader yields `Article` or `Skipped` items, so one broken record never stops the rest.
`iter_corpus` walks corpus folders and picks the reader by file suffix.
"""
from __future__ import annotations

import codecs
import errno
import html
import io
import json
import os
import re
import stat as stat_module
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Mapping, Protocol

from .analysis import normalize
from .errors import BadArticle
from .models import Article, Notice, Skipped
from .records import Known, line_hash

ReadItem = Article | Skipped | Notice | Known

#: File names that describe a corpus rather than hold an article (compared upper-case, by stem).
NOT_ARTICLES = frozenset({"README", "SOURCE", "LICENSE", "LICENCE", "CHANGELOG", "COPYING", "NOTICE"})

MAX_HEADLINE_CHARS = 500

_BULLET_RE = re.compile(r"^\s*[•\-*]\s+")
_BLANK_LINE_RE = re.compile(r"\n\s*\n")
# Runs of spaces of every kind, control characters and lone surrogates (from JSON escapes) become
# one space; a single plain space, by far the most common, is not matched at all.
# Bidirectional embedding, override and isolate controls (U+202A-202E, U+2066-2069) count as spaces too:
# invisible in text, and printed raw they turn a terminal line around (a headline reading backwards).
_ODD_SPACE = r"\x00-\x1f\x7f-\xa0\u2000-\u200b\u2028\u2029\u202a-\u202f\u205f\u2066-\u2069\u3000\ud800-\udfff"
_SPACES_RE = re.compile(rf"[{_ODD_SPACE}][ {_ODD_SPACE}]*| [ {_ODD_SPACE}]+")


@dataclass(frozen=True)
class CorpusFile:
    """One article file found under a corpus root.

    `label` names the root among several indexed together (see `folder_labels`); "" when it is the only one.
    `known`: for an update, the records of a JSONL file the serving generation holds, id by line hash
    (`indexer.records`): the reader yields an unchanged line as `Known` instead of parsing it.
    """

    path: Path
    root: Path
    size: int
    mtime_ns: int
    label: str = ""
    known: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def rel(self) -> str:
        """The id of the file's article (and the base of its records' default ids): its path relative
        to its corpus folder, after the folder's label when several folders are indexed together.
        Worked out once: a JSONL file's every record asks for it."""
        relative = path_text(self.path.relative_to(self.root).as_posix())
        return f"{self.label}/{relative}" if self.label else relative

    @property
    def key(self) -> str:
        """The file's path as its articles store it (and the manifest and updates look it up)."""
        return path_text(self.path)


@lru_cache(maxsize=1024)  # asked for each article of a file
def path_text(path: Path | str | bytes) -> str:
    """A path as storable, printable text: bytes that are not UTF-8 become `\\xNN` escapes.

    Python keeps such bytes as lone surrogates, which no index, JSON or terminal can encode.
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


# --- text helpers -------------------------------------------------------------------------------


def _byte_as_cp1252(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined: read as Latin-1
        return chr(byte)


_CP1252 = tuple(_byte_as_cp1252(b) for b in range(256))


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read as cp1252.

    Scraped files mix encodings (a UTF-8 article with a pasted cp1252 quote); each bad byte is
    decoded on its own so the valid UTF-8 around it stays intact.
    """
    assert isinstance(error, UnicodeDecodeError)
    return "".join(_CP1252[b] for b in error.object[error.start:error.end]), error.end


codecs.register_error("article-search-cp1252", _cp1252_fallback)


def decode(data: bytes) -> str:
    """Decode article bytes: BOMs honoured, UTF-8 with stray bytes read as cp1252 (never fails)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="article-search-cp1252")


def clean(text: str) -> str:
    """HTML entities decoded; odd spaces, line breaks and control characters collapsed to one space."""
    if "&" in text:
        text = html.unescape(text)
    text = normalize(text)
    if not text.isprintable() or "  " in text:  # every odd space is unprintable: most text skips the regex
        text = _SPACES_RE.sub(" ", text)
    return text.strip()


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, cleaned, empty ones dropped (CR-only line ends count as lines)."""
    return [p for p in (clean(block) for block in _BLANK_LINE_RE.split(text.replace("\r\n", "\n").replace("\r", "\n"))) if p]


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


def open_article(path: Path) -> BinaryIO:
    """Open an article file for reading, refusing anything but a regular file before reading a byte.

    Opened without blocking: a FIFO named like an article would otherwise wait for a writer forever.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat_module.S_ISREG(mode):
            kind = "a FIFO" if stat_module.S_ISFIFO(mode) else "a device" if stat_module.S_ISCHR(mode) or stat_module.S_ISBLK(mode) else "a socket" if stat_module.S_ISSOCK(mode) else "not a regular file"
            raise BadArticle(f"not an article file: {kind}")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_content(path: Path, max_bytes: int) -> BinaryIO:
    """The bytes of an article file as its reader sees them: a `.gz` file decompressed on the fly, at most
    `indexer.gzipped.inflated_limit` of them (a gzip bomb costs bounded time and memory)."""
    from .gzipped import is_gzipped, open_gzipped

    stream = open_article(path)
    return open_gzipped(stream, max_bytes) if is_gzipped(path) else stream


def format_of(path: Path) -> str:
    """The suffix that decides a file's reader, lower-case; a `.gz` file's is that of its inner name."""
    from .gzipped import inner_path

    return inner_path(path).suffix.lower()


def over_cap(size: int, limit: int) -> str:
    return f"file is {size:,} bytes, over the {limit:,}-byte article size cap"


def size_problem(file: CorpusFile, max_bytes: int) -> str | None:
    """Why a file is too big to read, judged by its listed size before a byte of it is read (or hashed);
    None when it may be read. JSONL is capped per record, files of many articles (COLLECTIONS) at
    JSON_FILE_CAPS times the cap. A .gz file is judged by its compressed size here, by what it inflates to
    while it is read."""
    suffix = format_of(file.path)
    limit = max_bytes * JSON_FILE_CAPS if suffix in COLLECTIONS else max_bytes
    return over_cap(file.size, limit) if suffix != ".jsonl" and file.size > limit else None


def read_text_file(path: Path, max_bytes: int) -> str:
    """Read and decode a file, refusing binaries and oversized files with a clear reason.

    The cap holds before and while reading: at most `max_bytes` + 1 bytes are ever read, so a file that
    grows while it is read (or a huge sparse one) costs no more than the cap.
    """
    with open_content(path, max_bytes) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > max_bytes:
            raise BadArticle(over_cap(size, max_bytes))
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        what = "decompresses to more than" if format_of(path) != path.suffix.lower() else "grew while it was read, past"
        raise BadArticle(f"file {what} the {max_bytes:,}-byte article size cap")
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


def fit_headline(headline: str, body: list[str]) -> tuple[str, list[str]]:
    """A headline over MAX_HEADLINE_CHARS (a one-line file, a runaway title) is cut at a word for
    display, and its full text becomes the first body paragraph: nothing is lost from the index."""
    if len(headline) <= MAX_HEADLINE_CHARS:
        return headline, body
    return headline[:MAX_HEADLINE_CHARS].rsplit(" ", 1)[0] + "…", [headline, *body]


def _article(article_id: str, headline: str, body: list[str], path: Path, **meta: Any) -> Article:
    """Build an Article, refusing ones with no text at all."""
    if not headline and not body and not meta.get("bullets") and not meta.get("captions"):
        raise BadArticle("no text (empty or whitespace only)")
    headline, body = fit_headline(headline, body)
    return Article(id=article_id, headline=headline, body=tuple(body), path=path_text(path), **meta)


# --- readers ------------------------------------------------------------------------------------


#: A `.txt` file of at least this many lines, none blank and each a single word, is a word list.
WORD_LIST_LINES = 20


def word_list_size(lines: list[str]) -> int:
    """The number of words when the lines are a word list (a corpus's category or name list), else 0.

    An article has a headline of several words and paragraphs apart: no real article is one word a line
    for WORD_LIST_LINES lines without a blank one. (Of the 4,459 `.txt` files of BBC, BBC summaries, the
    bundled corpus, 18F, Reuters and the tests, only Reuters' five `all-*-strings.lc.txt` lists are.)
    """
    words = lines[:-1] if lines and not lines[-1].strip() else lines
    if len(words) < WORD_LIST_LINES or any(len(line.split()) != 1 for line in words):
        return 0
    return len(words)


def read_txt(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """The founding article's layout: headline line, bullet lines, body paragraphs, doubled captions."""
    text = read_text_file(file.path, max_bytes)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if words := word_list_size(lines):
        raise BadArticle(f"a word list ({words:,} lines of one word each), not an article")
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

    A story has no headline of its own; its first highlight serves as the headline. A byline at its
    top (the Daily Mail's "By / Jane Smith / PUBLISHED: ...") gives the authors, not body text.
    """
    from .bylines import story_byline

    text = read_text_file(file.path, max_bytes)
    head, _, tail = text.partition("@highlight")
    highlights = [clean(p) for p in ("@highlight" + tail).split("@highlight") if clean(p)] if tail else []
    authors, paras = story_byline(paragraphs(head))
    body, captions = split_captions(paras)
    headline = highlights[0] if highlights else ""
    if not headline and body:
        headline, body = body[0], body[1:]
    yield _article(file.rel, headline, body, file.path, bullets=tuple(highlights[1:]), captions=tuple(captions),
                   authors=authors)


def _bounded_lines(stream: "_LineSource", max_bytes: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(number, line, size) of each line; a line over `max_bytes` comes as None, never held in memory."""
    number = 0
    while raw := stream.readline(max_bytes + 1):
        number += 1
        size = len(raw)
        if size > max_bytes and not raw.endswith(b"\n"):
            while (chunk := stream.readline(1 << 20)):
                size += len(chunk)
                if chunk.endswith(b"\n"):
                    break
        yield number, (raw if size <= max_bytes else None), size


class _LineSource(Protocol):
    def readline(self, limit: int, /) -> bytes: ...


class _Recoded:
    """Lines of a UTF-16 or UTF-32 stream as UTF-8 bytes, so one line reader serves every encoding."""

    def __init__(self, stream: BinaryIO, encoding: str) -> None:
        self._text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline=None)  # type: ignore[arg-type]

    def readline(self, limit: int, /) -> bytes:
        return self._text.readline(limit).encode("utf-8")


def _lines_of(stream: BinaryIO) -> _LineSource:
    """The stream itself for UTF-8; a recoding reader for UTF-16/32 (by BOM, or by NULs in the first
    character, which JSON text never has)."""
    head = stream.peek(4)[:4] if hasattr(stream, "peek") else b""
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            return _Recoded(stream, encoding)
    if len(head) >= 2 and head[0] and not head[1]:
        return _Recoded(stream, "utf-16-le")
    if len(head) >= 2 and not head[0] and head[1]:
        return _Recoded(stream, "utf-16-be")
    return stream


class RecordNotes:
    """What the records of one file had that was not used, or not understood: one notice per file."""

    def __init__(self) -> None:
        self.unused: dict[str, int] = {}
        self.bad_dates: list[tuple[int | None, str]] = []

    def notices(self, path: Path) -> Iterator[Notice]:
        where = path_text(path)
        if self.unused:
            names = ", ".join(f"{name} ({count:,})" for name, count in sorted(self.unused.items()))
            yield Notice(where, f"fields not used: {names}")
        if self.bad_dates:
            line, value = self.bad_dates[0]
            first = f"line {line}: {value!r}" if line is not None else repr(value)
            yield Notice(where, f"{len(self.bad_dates):,} date(s) not understood, indexed undated (first: {first})")


def read_jsonl(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """One article per line (UTF-8, or UTF-16/32); a broken line is reported with its line number and
    skipped; fields not used and dates not understood are noticed once for the file. A line `file.known`
    holds unchanged is not parsed: it comes as `Known`."""
    seen: set[str] = set()
    notes = RecordNotes()
    with open_content(file.path, max_bytes) as stream:
        for number, raw, size in _bounded_lines(_lines_of(stream), max_bytes):
            if raw is not None and not raw.strip():
                continue
            try:
                if file.known and raw is not None and (known := file.known.get(digest := line_hash(number, raw))):
                    _unique_id(known, seen)
                    yield Known(known, digest, path_text(file.path), number)
                    continue
                if raw is None:
                    raise BadArticle(f"record is {size:,} bytes, over the {max_bytes:,}-byte article size cap")
                try:
                    record = json.loads(decode(raw))
                except json.JSONDecodeError as exc:
                    raise BadArticle(f"invalid JSON: {exc.msg.removesuffix(' at')} at column {exc.colno}") from None
                yield _unique(article_from_record(record, f"{file.rel}:{number}", file.path, number, notes), seen)
            except (BadArticle, RecursionError, ValueError) as exc:
                yield Skipped(path_text(file.path), str(exc) or type(exc).__name__, number)
    yield from notes.notices(file.path)


#: Formats whose records are lines: each record's hash is its line's (`line_hashes`), so an update can
#: tell an unchanged record before parsing it.
LINE_RECORDS = frozenset({".jsonl"})


def line_hashes(file: CorpusFile, max_bytes: int) -> dict[int, str]:
    """The hash of each line of a JSONL file by number, lines read as `read_jsonl` reads them."""
    with open_content(file.path, max_bytes) as stream:
        return {number: line_hash(number, raw) for number, raw, _ in _bounded_lines(_lines_of(stream), max_bytes)
                if raw is not None and raw.strip()}


#: A `.json` feed is read whole, so it may hold at most this many times the article size cap.
JSON_FILE_CAPS = 10
#: Formats of many articles per file, read whole: capped at JSON_FILE_CAPS times the article size cap.
COLLECTIONS = frozenset({".json", ".sgm", ".xml", ".rss", ".atom"})
_JSON_LISTS = ("articles", "items", "entries", "posts", "stories", "data", "results", "records", "documents")


def read_json(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """A JSON feed: one record, a list of records, or an object holding the list (`articles`, `items`,
    `data`, ...). A broken record is reported by its number and skipped."""
    text = read_text_file(file.path, max_bytes * JSON_FILE_CAPS)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadArticle(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if isinstance(data, dict):
        lists = [data[key] for key in _JSON_LISTS if isinstance(data.get(key), list)]
        data = lists[0] if lists else [data]
    if not isinstance(data, list):
        raise BadArticle("JSON is neither an article, a list of articles nor an object holding one")
    from . import fields

    seen: set[str] = set()
    notes = RecordNotes()
    for number, record in enumerate(data, 1):
        try:
            if isinstance(record, dict) and not fields.lowered(record).keys() & {*fields.TITLE, *fields.BODY}:
                raise BadArticle("no headline, title or body: not an article")  # package.json, a settings file
            yield _unique(article_from_record(record, f"{file.rel}#{number}", file.path, None, notes), seen)
        except (BadArticle, RecursionError, ValueError) as exc:
            yield Skipped(path_text(file.path), f"record {number}: {exc or type(exc).__name__}")
    yield from notes.notices(file.path)


def _unique(article: Article, seen: set[str]) -> Article:
    _unique_id(article.id, seen)
    return article


def _unique_id(article_id: str, seen: set[str]) -> None:
    if article_id in seen:
        raise BadArticle(f"duplicate id {article_id!r} in this file")
    seen.add(article_id)


def article_from_record(record: Any, default_id: str, path: Path, line: int | None = None,
                        notes: RecordNotes | None = None) -> Article:
    """An Article from a JSON object, under any of the field names feeds commonly use (`indexer.fields`)."""
    from . import fields
    from .bylines import author_names
    from .dates import iso_date

    if not isinstance(record, dict):
        raise BadArticle("record is not a JSON object")
    values = fields.lowered(record)
    used: set[str] = set()

    def take(keys: tuple[str, ...]) -> Any:
        for key in keys:
            if values.get(key) not in (None, "", []):
                used.add(key)
                return values[key]
        used.update(k for k in keys if k in values)  # present but empty: nothing to use, nothing lost
        return None

    headline = clean(_visible(_optional_text(take(fields.TITLE), "headline") or ""))
    bullets = [b for b in (clean(_visible(bullet)) for bullet in _text_list(take(fields.BULLETS), "bullets")) if b]
    if not bullets:
        present = [key for key in fields.LEADS if key in values]
        bullets = fields.distinct(clean(_visible(lead)) for key in present for lead in _text_list(take((key,)), key))
    body, captions = _record_body(take(fields.BODY))
    date = None
    date_value = take(fields.DATE)
    if date_value is not None:
        try:
            date = iso_date(date_value)
        except ValueError:
            if notes is not None:
                notes.bad_dates.append((line, str(date_value)[:80]))
    categories = fields.categories(values)
    used.update(k for k in fields.CATEGORIES if k in values)
    article = _article(
        _optional_text(take(fields.ID), "id") or default_id, headline, body, path, line=line,
        bullets=tuple(bullets), captions=tuple(captions), date=date,
        source=clean(fields.scalar_text(take(fields.SOURCE))) or None,
        url=_optional_text(take(fields.URL), "url"),
        categories=categories, authors=author_names(take(fields.AUTHORS)),
    )
    if notes is not None:
        for key in values.keys() - used:
            notes.unused[key] = notes.unused.get(key, 0) + 1
    return article


def _visible(text: str) -> str:
    """The text with any HTML reduced to what a browser shows (the parser is loaded only for markup)."""
    if "<" not in text:
        return text
    from .htmltext import visible_text

    return visible_text(text)


def _record_body(value: Any) -> tuple[list[str], list[str]]:
    """Body paragraphs and captions of a record's text: a string (plain, or HTML as feeds often carry)
    or a list of paragraph strings."""
    if value is None:
        return [], []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = "\n\n".join(value)
    if not isinstance(value, str):
        raise BadArticle("body must be a string (or a list of strings)")
    from .htmltext import html_text, looks_like_html

    if looks_like_html(value):
        found = html_text(value)
        return [p for p in (clean(p) for p in found.paragraphs) if p], [c for c in (clean(c) for c in found.captions) if c]
    return split_captions(paragraphs(value))


def read_md(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """Markdown via markdown-it-py; see `indexer.markdown` for the mapping to sections."""
    from .markdown import article_from_markdown

    text = read_text_file(file.path, max_bytes)
    notices: list[str] = []
    yield article_from_markdown(text, file.rel, file.path, notices)
    yield from (Notice(path_text(file.path), notice) for notice in notices)


READERS: dict[str, Callable[[CorpusFile, int], Iterator[ReadItem]]] = {
    ".txt": read_txt,
    ".md": read_md,
    ".markdown": read_md,
    ".jsonl": read_jsonl,
    ".json": read_json,
    ".story": read_story,
}


def _register_web_formats() -> None:
    """HTML pages, feeds, NITF and Reuters SGML (issue 16): their modules import this one."""
    from .feeds import read_feed, read_xml
    from .reuters import read_sgml
    from .webpages import read_html

    READERS.update({".html": read_html, ".htm": read_html, ".rss": read_feed, ".atom": read_feed,
                    ".xml": read_xml, ".sgm": read_sgml})


_register_web_formats()


def is_article_file(path: Path) -> bool:
    """True for a file whose suffix has a reader and whose name is not corpus documentation."""
    from .gzipped import inner_path

    inner = inner_path(path)
    return (
        inner.suffix.lower() in READERS
        and not path.name.startswith(".")
        and inner.stem.upper() not in NOT_ARTICLES
    )


def read_file(file: CorpusFile, max_bytes: int) -> Iterator[ReadItem]:
    """All articles of one file; any failure becomes a `Skipped` naming the file and the reason."""
    reader = READERS[format_of(file.path)]
    try:
        yield from reader(file, max_bytes)
    except BadArticle as exc:
        yield Skipped(path_text(file.path), str(exc))
    except RecursionError:
        yield Skipped(path_text(file.path), "structure nested too deeply to parse")
    except OSError as exc:
        yield Skipped(path_text(file.path), f"cannot read: {exc.strerror or exc}")
    except Exception as exc:  # a reader bug must cost one file, never the whole build
        yield Skipped(path_text(file.path), f"cannot parse: {type(exc).__name__}: {exc}")


def find_files(roots: Iterable[Path], follow_symlinks: bool = False) -> tuple[list[CorpusFile], list[Skipped]]:
    """Article files under the roots, sorted; symlinks are not followed unless asked.

    Followed links must stay inside their corpus root, and each real folder is walked once, so
    links pointing outside or in a loop are reported instead of read. With several roots, each
    file's ids start with its root's label (`folder_labels`), so equal paths in two roots stay apart.
    """
    files: list[CorpusFile] = []
    problems: list[Skipped] = []
    resolved: list[Path] = []
    for root in roots:
        try:
            resolved.append(Path(root).resolve())
        except (OSError, RuntimeError) as exc:
            problems.append(Skipped(path_text(root), f"cannot resolve corpus folder: {exc}"))
    labels = folder_labels([r.parent if r.is_file() else r for r in resolved if r.exists()])
    for root in resolved:
        if root.is_file():
            _add_file(root, root.parent, files, problems, follow_symlinks, labels.get(root.parent, ""))
            continue
        if not root.is_dir():
            problems.append(Skipped(path_text(root), "corpus folder does not exist"))
            continue
        walked = {root}

        def cannot_list(error: OSError) -> None:
            problems.append(Skipped(path_text(error.filename), f"cannot list folder: {error.strerror or error}"))

        for dirpath, dirnames, filenames in os.walk(root, followlinks=follow_symlinks, onerror=cannot_list):
            folder = Path(dirpath)
            if follow_symlinks:
                walked.add(folder.resolve())
            kept = []
            for name in sorted(d for d in dirnames if not d.startswith(".")):
                try:
                    is_link = (folder / name).is_symlink()
                except OSError as exc:  # e.g. a path longer than the system allows
                    problems.append(Skipped(path_text(folder / name), f"cannot list folder: {exc.strerror or exc}"))
                    continue
                if not is_link:
                    kept.append(name)
                elif (reason := _link_problem(folder / name, root, follow_symlinks, walked)) is not None:
                    problems.append(Skipped(path_text(folder / name), reason))
                else:
                    kept.append(name)
            dirnames[:] = kept
            for name in sorted(filenames):
                _add_file(folder / name, root, files, problems, follow_symlinks, labels.get(root, ""))
    seen: set[Path] = set()  # a folder given twice, or inside another given folder: each file once
    return [f for f in files if not (f.path in seen or seen.add(f.path))], problems


def folder_labels(folders: Iterable[Path]) -> dict[Path, str]:
    """A short name for each of several corpus folders, to keep their articles' ids apart.

    A folder is named by the fewest trailing parts of its path that no other folder ends with
    (bbc/business, bbc/sport: "business", "sport"; a/posts, b/posts: "a/posts", "b/posts"),
    lengthened while its name is the start of another's (ids could then be equal). The names depend
    only on the folders, so every run over the same folders gives the same ids. One folder: "".
    """
    distinct = list(dict.fromkeys(folders))
    if len(distinct) < 2:
        return {folder: "" for folder in distinct}
    parts = {folder: folder.parts[1:] for folder in distinct}

    def tail(folder: Path, count: int) -> tuple[str, ...]:
        return parts[folder][max(len(parts[folder]) - count, 0):]

    def others(folder: Path) -> list[Path]:
        return [f for f in distinct if f != folder]

    length = {f: next((k for k in range(1, len(parts[f])) if all(tail(f, k) != tail(g, k) for g in others(f))), len(parts[f]))
              for f in distinct}
    changed = True
    while changed:
        changed = False
        for f in distinct:
            name = tail(f, length[f])
            if length[f] < len(parts[f]) and any(tail(g, length[g])[:len(name)] == name for g in others(f)):
                length[f] += 1
                changed = True
    return {f: path_text("/".join(tail(f, length[f]))) for f in distinct}


def _link_problem(path: Path, root: Path, follow_symlinks: bool, walked: set[Path] | None = None) -> str | None:
    """Why a symbolic link is not followed, or None when it may be (folders: each real one once)."""
    if not follow_symlinks:
        return "symbolic link, not followed (see follow_symlinks)"
    try:
        target = path.resolve(strict=True)
    except RuntimeError:
        return "symbolic link loop"
    except OSError as exc:
        return "symbolic link loop" if exc.errno == errno.ELOOP else f"broken symbolic link: {exc.strerror or exc}"
    if not target.is_relative_to(root):
        return "symbolic link pointing outside the corpus folder"
    if walked is not None:
        if target in walked or root.is_relative_to(target):
            return "symbolic link to a folder already indexed (a loop)"
        walked.add(target)
    return None


def _add_file(path: Path, root: Path, files: list[CorpusFile], problems: list[Skipped], follow_symlinks: bool,
              label: str = "") -> None:
    if not is_article_file(path):
        return
    try:
        if path.is_symlink() and (reason := _link_problem(path, root, follow_symlinks)) is not None:
            problems.append(Skipped(path_text(path), reason))
            return
        stat = path.stat()
    except OSError as exc:  # gone meanwhile, no permission, a path longer than the system allows
        problems.append(Skipped(path_text(path), f"cannot read: {exc.strerror or exc}"))
        return
    if stat_module.S_ISDIR(stat.st_mode):  # a folder named x.txt is walked, not read
        return
    if not stat_module.S_ISREG(stat.st_mode):  # reading a FIFO or a device could block or never end
        problems.append(Skipped(path_text(path), "not a regular file (a pipe, socket or device); not read"))
        return
    files.append(CorpusFile(path, root, stat.st_size, stat.st_mtime_ns, label))
