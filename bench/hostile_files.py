"""Time each hostile-size corpus file: the build of a folder holding it next to one good article, and
one search that hits it. Each must cost bounded time and memory, and the good article must be indexed.
Prints a markdown table. Takes a few minutes (a million bullets take whoosh minutes to index).

    python bench/hostile_files.py [WORK_DIR]
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer import build_index  # noqa: E402
from indexer.config import Config  # noqa: E402
from indexer.errors import ArticleSearchError  # noqa: E402
from query import Searcher  # noqa: E402

MB = 1024 * 1024


def text(name: str, content: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_text(content, encoding="utf-8")


def sparse(name: str, size: int) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        with open(folder / name, "wb") as stream:
            stream.write(b"Sparse headline\n\n")
            stream.seek(size)
            stream.write(b"x\n")
    return write


def fifo(name: str) -> Callable[[Path], None]:
    return lambda folder: os.mkfifo(folder / name)


def deep(name: str, levels: int) -> Callable[[Path], None]:
    """A folder chain longer than PATH_MAX (4,096 bytes), made with relative paths."""
    def write(folder: Path) -> None:
        fd = os.open(folder, os.O_RDONLY)
        for _ in range(levels):
            os.mkdir("d" * 200, dir_fd=fd)
            fd = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
        with os.fdopen(os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as stream:
            stream.write("Deep headline\n\nDeep body.\n")
    return write


# (case, writer, word that finds the case's article, if it is meant to be indexed)
CASES: list[tuple[str, Callable[[Path], None], str | None]] = [
    ("100 GB sparse .txt", sparse("sparse.txt", 100 * 1024 * MB), None),
    ("Markdown, 5 MB of [", text("brackets.md", "# Bracket run of the ibex\n\n" + "[" * (5 * MB) + "\n"), "ibex"),
    ("Markdown, 5 MB of ![", text("images.md", "# Image run of the okapi\n\n" + "![" * (5 * MB // 2) + "\n"), "okapi"),
    ("Markdown, 5 MB of *a_", text("emphasis.md", "# Emphasis run of the gecko\n\n" + "*a_" * (5 * MB // 3) + "\n"), "gecko"),
    ("Markdown, 5 MB of [a](", text("links.md", "# Link run of the tamarin\n\n" + "[a](" * (5 * MB // 4) + "\n"), "tamarin"),
    ("9 MB paragraph", text("paragraph.txt", "One long paragraph\n\n" + "the dingo walks on and on " * (9 * MB // 26) + "\n"), "dingo"),
    ("1,000,000 bullets (JSONL)", text("million.jsonl", json.dumps(
        {"id": "million", "headline": "A million bullets", "bullets": ["jackal", *range(1_000_000)]}) + "\n"), "jackal"),
    ("UTF-16 JSONL", lambda f: (f / "utf16.jsonl").write_text(
        json.dumps({"id": "u16", "headline": "Sixteen bits", "body": "Wallaby."}) + "\n", encoding="utf-16"), "wallaby"),
    ("FIFO named x.txt", fifo("pipe.txt"), None),
    ("folder chain over PATH_MAX", deep("deep.txt", 25), None),
]


def grow(path: Path, stop: threading.Event) -> None:
    """Append to a file until told to stop (at most 2 GB)."""
    with open(path, "ab") as stream:
        for _ in range(2048):
            if stop.is_set():
                return
            stream.write(b"more words " * (MB // 11))
            stream.flush()


def run_case(work: Path, case: str, write: Callable[[Path], None], word: str | None) -> str:
    corpus, index = work / "corpus", work / "index"
    shutil.rmtree(work, ignore_errors=True)
    corpus.mkdir(parents=True)
    (corpus / "good.txt").write_text("Good headline about a narwhal\n\nThe narwhal swam.\n", encoding="utf-8")
    write(corpus)
    started = time.perf_counter()
    try:
        report = build_index([corpus], index, Config(index_dir=index))
        outcome = f"{report.indexed} indexed; " + ("; ".join(s.reason[:70] for s in report.skipped) or "nothing skipped")
    except ArticleSearchError as exc:
        return f"| {case} | {time.perf_counter() - started:.1f} | build failed: {str(exc)[:90]} | | |"
    built = time.perf_counter() - started
    if word is None:
        return f"| {case} | {built:.1f} | {outcome} | | |"
    with Searcher(index) as searcher:
        searcher.search("narwhal")
        started = time.perf_counter()
        results = searcher.search(word)
        searched = time.perf_counter() - started
    shown = sum(len(s.text) for hit in results.hits for s in hit.snippets)
    return f"| {case} | {built:.1f} | {outcome} | {searched:.2f} | {shown} |"


def main(work: Path) -> None:
    print("| case | build s | outcome | search s | snippet chars |\n|---|---|---|---|---|")
    for case, write, word in CASES:
        print(run_case(work, case, write, word), flush=True)
    corpus = work / "corpus"
    shutil.rmtree(work, ignore_errors=True)
    corpus.mkdir(parents=True)
    (corpus / "good.txt").write_text("Good headline about a narwhal\n\nThe narwhal swam.\n", encoding="utf-8")
    (corpus / "growing.txt").write_text("Growing headline\n\n", encoding="utf-8")
    stop = threading.Event()
    writer = threading.Thread(target=grow, args=(corpus / "growing.txt", stop))
    writer.start()
    started = time.perf_counter()
    try:
        report = build_index([corpus], work / "index", Config(index_dir=work / "index"))
        outcome = f"{report.indexed} indexed; " + "; ".join(s.reason[:70] for s in report.skipped)
    finally:
        stop.set()
        writer.join()
    print(f"| file growing while read | {time.perf_counter() - started:.1f} | {outcome} "
          f"(grew to {(corpus / 'growing.txt').stat().st_size // MB:,} MB) | | |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.gettempdir()) / "article-search-hostile")
