"""Helpers for the nightly-run tests: a small real corpus to change, and views of an index a user would see."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BBC

from indexer.cli import main as index_main
from indexer.engines import get_engine
from indexer.generations import IndexStore
from query import Searcher

CATEGORIES = ("business", "entertainment", "politics", "sport", "tech")


def cli(*args: str) -> tuple[int, str, str]:
    """`search-index ARGS` through click's runner: exit code, stdout, stderr."""
    result = CliRunner().invoke(index_main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """120 real BBC articles in a folder of the test's own (import the fixture to use it)."""
    return make_corpus(tmp_path / "corpus")


@pytest.fixture
def index(tmp_path: Path, corpus: Path) -> Path:
    """An index of `corpus`, built by `search-index rebuild`."""
    index_dir = tmp_path / "index"
    code, _, err = cli("rebuild", str(corpus), "--index", str(index_dir), "-q")
    assert code == 0, err
    return index_dir


def make_corpus(folder: Path, per_category: int = 24) -> Path:
    """`per_category` real BBC articles of each category copied into `folder` (120 by default)."""
    for category in CATEGORIES:
        target = folder / category
        target.mkdir(parents=True)
        for source in sorted((BBC / category).glob("*.txt"))[:per_category]:
            shutil.copyfile(source, target / source.name)
    return folder


def bbc_article(category: str, number: int) -> str:
    return (BBC / category / f"{number:03d}.txt").read_text(encoding="latin-1")


def add_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def total(index: Path, query: str) -> int:
    """How many articles a search finds (what a user sees)."""
    with Searcher(index) as searcher:
        return searcher.search(query, limit=1).total


def serving_count(index: Path) -> int:
    """Articles in the serving generation, checked against its own meta: it must be complete."""
    generation = IndexStore(index).current()
    opened = get_engine(generation.engine).open(generation.path)
    try:
        count = opened.doc_count()
    finally:
        opened.close()
    assert count == generation.meta.articles, f"{generation.name} holds {count}, its meta says {generation.meta.articles}"
    return count


def generation_dirs(index: Path) -> list[str]:
    return sorted(p.name for p in index.glob("gen-*"))
