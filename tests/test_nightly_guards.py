"""Runs that would quietly lose or change an index are refused or say so: an empty folder, a switch of
engine nobody asked for, damaged metadata, an index built by another text analysis."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner
from nightly_support import bbc_article, cli, corpus, index, serving_count, total  # noqa: F401 (fixtures)

from indexer.build import build_index
from indexer.errors import CorpusMissing
from indexer.generations import LAST_RUN, META, IndexStore
from query.cli import main as search_main


def search_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(search_main, list(args))
    return result.exit_code, result.stdout, result.stderr


def serving_engine(index: Path) -> str:
    return IndexStore(index).current().engine


# --- an empty or unmounted folder -----------------------------------------------------------------


@pytest.mark.parametrize("command", ["build", "rebuild", "update"])
def test_a_folder_without_articles_is_refused_unless_allowed(tmp_path: Path, index: Path, command: str) -> None:
    mount_point = tmp_path / "share"
    (mount_point / "lost+found").mkdir(parents=True)  # an unmounted share: the mount point is left
    (mount_point / "README.md").write_text("Mount the archive here.\n")  # describes the corpus: no article
    before = IndexStore(index).current_name()
    code, out, err = cli(command, str(mount_point), "--index", str(index))
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"no article files under {mount_point}" in err and "refusing to remove all 120 articles" in err
    assert "--allow-empty" in err
    assert IndexStore(index).current_name() == before and serving_count(index) == 120 and total(index, "said") > 0
    code, out, err = cli(command, str(mount_point), "--index", str(index), "--allow-empty", "--json")
    assert code == 0, err
    assert json.loads(out)["indexed"] == 0 and serving_count(index) == 0


def test_the_api_refuses_an_empty_folder_too(tmp_path: Path, index: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusMissing, match="refusing to remove all 120 articles"):
        build_index([empty], index, mode="rebuild")
    assert serving_count(index) == 120
    with pytest.raises(CorpusMissing, match="refusing to build an empty index"):
        build_index([empty], tmp_path / "new-index")
    assert build_index([empty], index, allow_empty=True).indexed == 0


# --- the engine of an existing index ----------------------------------------------------------------


def test_an_index_keeps_its_engine_unless_engine_is_given(tmp_path: Path, corpus: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A configured engine ($ARTICLE_SEARCH_ENGINE, search.toml) is for new indexes; only --engine
    (engine= in the API) changes the engine of an existing one."""
    pytest.importorskip("tantivy")
    index = tmp_path / "index"
    code, out, err = cli("build", str(corpus), "--index", str(index), "--engine", "tantivy", "--json")
    assert code == 0 and json.loads(out)["engine"] == "tantivy", err
    monkeypatch.setenv("ARTICLE_SEARCH_ENGINE", "whoosh")
    code, out, err = cli("rebuild", str(corpus), "--index", str(index), "--json")
    assert code == 0 and json.loads(out)["engine"] == "tantivy", err
    (corpus / "tech" / "900.txt").write_text(bbc_article("sport", 300), encoding="latin-1")
    code, out, err = cli("update", str(corpus), "--index", str(index), "--json")
    assert code == 0 and json.loads(out)["engine"] == "tantivy" and json.loads(out)["added"] == 1, err
    assert build_index([corpus], index, mode="rebuild").engine == "tantivy"
    assert serving_engine(index) == "tantivy" and total(index, "said") > 0

    code, out, err = cli("rebuild", str(corpus), "--index", str(index), "--engine", "whoosh", "--json")
    assert code == 0 and json.loads(out)["engine"] == "whoosh", err
    monkeypatch.setenv("ARTICLE_SEARCH_ENGINE", "tantivy")
    assert cli("rebuild", str(corpus), "--index", str(index))[0] == 0 and serving_engine(index) == "whoosh"
    assert build_index([corpus], index, engine="tantivy").engine == "tantivy"
    assert cli("build", str(corpus), "--index", str(tmp_path / "new"))[0] == 0  # a new index: the configured engine
    assert serving_engine(tmp_path / "new") == "tantivy"


# --- malformed metadata -------------------------------------------------------------------------------


def edit_meta(index: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    path = IndexStore(index).root / (IndexStore(index).current_name() or "") / META
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


MALFORMED = [
    ("a list", lambda meta: [meta], "it holds a JSON list, not an object"),
    ("text built_at", lambda meta: {**meta, "built_at": "yesterday"}, "'built_at' is \"yesterday\", not a number"),
    ("articles as text", lambda meta: {**meta, "articles": "120"}, "'articles' is \"120\", not a whole number"),
    ("previous outside the index", lambda meta: {**meta, "previous": "../../etc"}, "not a generation name"),
    ("analysis garbled", lambda meta: {**meta, "analysis": "snowball"}, "'analysis' is not an object"),
]


@pytest.mark.parametrize("change, reason", [pytest.param(c, r, id=case) for case, c, r in MALFORMED])
def test_malformed_meta_is_one_line_exit_2_naming_the_recorded_folders(corpus: Path, index: Path,
                                                                      change: Callable[[Any], Any], reason: str) -> None:
    edit_meta(index, change)
    code, out, err = search_cli("--index", str(index), "said")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "is malformed" in err and reason in err
    folders = "CORPUS_DIR" if reason.startswith("it holds") else str(corpus.resolve())  # a list records no folder
    assert err.rstrip().endswith(f"rebuild it with: search-index rebuild {folders} --index {index}")
    code, out, err = cli("status", "--index", str(index))
    assert code == 2 and reason in err and "Traceback" not in err and "is missing or damaged" in out
    code, _, err = cli("update", str(corpus), "--index", str(index))  # replaces the damaged generation
    assert code == 0 and "damaged" in err and total(index, "said") > 0 and cli("status", "--index", str(index))[0] == 0


@pytest.mark.parametrize("record, reason", [
    ("[1, 2]", "it is not a JSON object"),
    ('{"mode": "update", "outcome": "ok", "report": {"indexed": "many"}}', "report.'indexed' is \"many\""),
    ('{"mode": "update", "report": {"skipped": [{"path": 7, "reason": "x"}]}}', "report.skipped[].'path' is 7"),
    ("{not json", "Expecting property name"),
])
def test_a_bad_last_run_record_is_one_line_and_the_next_run_replaces_it(corpus: Path, index: Path, record: str,
                                                                      reason: str) -> None:
    (index / LAST_RUN).write_text(record)
    code, out, err = cli("status", "--index", str(index))
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert f"the record of the last run {index / LAST_RUN} is malformed" in err and reason in err
    assert "articles:    120" in out  # the rest of the status is shown
    assert search_cli("--index", str(index), "said")[0] == 0
    assert cli("update", str(corpus), "--index", str(index))[0] == 0
    code, out, _ = cli("status", "--index", str(index))
    assert code == 0 and "last run:    update ok" in out


# --- the text analysis an index was built with ------------------------------------------------------


def test_an_index_built_by_another_analysis_is_refused_until_rebuilt(corpus: Path, index: Path) -> None:
    edit_meta(index, lambda meta: {**meta, "analysis": {**meta["analysis"], "stemmer": "snowball english, PyStemmer 2.0.1"}})
    code, out, err = search_cli("--index", str(index), "said")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "was built by another text analysis (stemmer snowball english, PyStemmer 2.0.1 (now snowball english" in err
    assert f"rebuild needed; rebuild it with: search-index rebuild {corpus.resolve()} --index {index}" in err
    before = IndexStore(index).current_name()
    code, out, err = cli("update", str(corpus), "--index", str(index))
    assert code == 2 and "rebuild needed" in err and IndexStore(index).current_name() == before
    assert cli("status", "--index", str(index))[0] == 2
    assert cli("rebuild", "--index", str(index))[0] == 0  # the folders the index records
    assert search_cli("--index", str(index), "said")[0] == 0 and serving_count(index) == 120


def test_an_index_from_before_analysis_was_recorded_is_searched_and_rebuilt_by_the_next_update(
        corpus: Path, index: Path) -> None:
    edit_meta(index, lambda meta: {k: v for k, v in meta.items() if k != "analysis"})
    assert search_cli("--index", str(index), "said")[0] == 0
    code, _, err = cli("update", str(corpus), "--index", str(index))
    assert code == 0 and "has no analysis record (built by an older version): rebuilt from scratch" in err
    assert IndexStore(index).current().meta.analysis is not None and serving_count(index) == 120


# --- status ---------------------------------------------------------------------------------------------


def test_status_counts_every_file_of_a_generation(tmp_path: Path, corpus: Path) -> None:
    """tantivy keeps its index in a sub-folder: status counted only the top-level files (547 B of 7 KB)."""
    pytest.importorskip("tantivy")
    index = tmp_path / "index"
    assert cli("build", str(corpus), "--index", str(index), "--engine", "tantivy")[0] == 0
    generation = IndexStore(index).current().path
    on_disk = sum(os.path.getsize(Path(folder, name)) for folder, _, names in os.walk(generation) for name in names)
    top_level = sum(p.stat().st_size for p in generation.iterdir() if p.is_file())
    status = json.loads(cli("status", "--index", str(index), "--json")[1])
    assert status["current"]["size_bytes"] == on_disk > 2 * top_level
