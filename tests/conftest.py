"""Shared fixtures: real corpora from ../shared/corpora, indexes in temporary folders."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
BBC = CORPORA / "bbc"
DAILYMAIL = CORPORA / "dailymail_finescoop_2020"
BUNDLED_CORPUS = PROJECT_ROOT / "corpus"
KNOWN_ITEMS_DEV = SHARED / "eval" / "known_items_dev.tsv"
# The semantic model, fetched by .ci/run (search-index fetch-model --model-dir .cache/models/...).
MODEL_DIR = PROJECT_ROOT / ".cache" / "models" / "bge-small-en-v1.5-q"


def pytest_configure(config: pytest.Config) -> None:
    """No test uses a semantic model installed for the user: session fixtures are built before the
    per-test environment below, so the model folder is pointed at nothing for the whole session.
    tests/test_semantic.py passes MODEL_DIR explicitly."""
    os.environ["ARTICLE_SEARCH_MODEL_DIR"] = str(PROJECT_ROOT / ".cache" / "no-model-for-tests")


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's index, config or corpus settings."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    for name in ("ARTICLE_SEARCH_INDEX", "ARTICLE_SEARCH_CORPUS", "ARTICLE_SEARCH_WEIGHTS", "ARTICLE_SEARCH_ENGINE",
                 "ARTICLE_SEARCH_OPENSEARCH_URL", "ARTICLE_SEARCH_SEMANTIC", "ARTICLE_SEARCH_MODEL_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARTICLE_SEARCH_CONFIG", str(home / "no-such-search.toml"))


ENGINES = ("whoosh", "tantivy")
ENGINE_PARAMETRIZED = {"test_search.py", "test_engines.py", "test_relevance.py", "test_semantic.py", "test_syntax.py"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of these modules that use an engine's index (`engine`, `bbc_index`) run once per embedded engine.

    Elsewhere `bbc_index` is the whoosh index: the OpenSearch tests compare their cluster with it.
    """
    if "engine" in metafunc.fixturenames and metafunc.definition.path.name in ENGINE_PARAMETRIZED:
        metafunc.parametrize("engine", ENGINES, indirect=True, scope="session")


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> str:
    """The engine of the index under test (whoosh unless the test is parametrized over engines)."""
    name = getattr(request, "param", "whoosh")
    if name != "whoosh":
        pytest.importorskip(name, reason=f"engine {name} not installed (pip install -e '.[{name}]')")
    return name


@pytest.fixture(scope="session")
def bbc_index(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Path:
    """One index of BBC + the bundled corpus per engine, built once per test session (read-only for tests)."""
    from indexer import build_index
    from indexer.config import Config

    index_dir = tmp_path_factory.mktemp(f"bbc-index-{engine}")
    report = build_index([BUNDLED_CORPUS, BBC], index_dir, Config(index_dir=index_dir, engine=engine))
    assert report.engine == engine
    assert report.indexed == 2226 and not report.skipped
    return index_dir


#: `bbc_index` is built from two folders, so each of its ids starts with its folder's name
#: (indexer.readers.folder_labels): the founding article is corpus/founding-article.txt.
FOUNDING_ID = "corpus/founding-article.txt"


def bbc_id(path: str) -> str:
    """The id in `bbc_index` of the BBC article at `path` in the BBC corpus ("sport/260.txt")."""
    return f"bbc/{path}"


def read_known_items(path: Path = KNOWN_ITEMS_DEV, id_of: Callable[[str], str] = str) -> list[tuple[str, set[str]]]:
    """(query, acceptable article ids) pairs from a known-item TSV file; `id_of` turns a path in the
    BBC corpus into the id of the index searched (`bbc_id` for `bbc_index`)."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, targets = line.split("\t")
        items.append((query, {id_of(t) for t in targets.split(",")}))
    return items


def pytest_report_header(config: pytest.Config) -> str:
    return f"corpora: {CORPORA} ({'present' if CORPORA.is_dir() else 'MISSING'}); cpus: {os.cpu_count()}"
