"""Nightly runs: update, rebuild, status, rollback, the lock, and failures, as a user of `search-index` sees them."""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from nightly_support import add_jsonl, bbc_article, cli, corpus, generation_dirs, index, serving_count, total  # noqa: F401

import indexer.build
from indexer.build import build_index
from indexer.faults import FAIL_ENV
from indexer.generations import IndexStore
from indexer.lock import IndexLock
from indexer.update import update_index
from query import Searcher

SEARCH_INDEX = Path(sys.executable).parent / "search-index"


def change_corpus(corpus: Path) -> None:
    """A day in the newsroom: one correction, one touched-but-identical file, two removals, new articles."""
    with open(corpus / "tech" / "001.txt", "a", encoding="latin-1") as stream:
        stream.write("\n\nCorrection: an earlier version misnamed the zqcorrected agency.\n")
    os.utime(corpus / "sport" / "001.txt")  # mtime changes, content does not: hashed, not re-read
    (corpus / "politics" / "001.txt").unlink()
    (corpus / "business" / "002.txt").unlink()
    (corpus / "sport" / "900.txt").write_text(bbc_article("sport", 300), encoding="latin-1")
    add_jsonl(corpus / "wire.jsonl", [
        {"id": "wire-1", "headline": "Zqwire storm closes harbour", "body": "The harbour closed at dawn."},
        {"id": "wire-2", "headline": "Zqwire council votes", "body": "The council voted on the budget."},
    ])


def test_update_reads_only_changes_and_matches_a_rebuild(tmp_path: Path, corpus: Path, index: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert serving_count(index) == 120
    change_corpus(corpus)
    read: list[str] = []
    real_read_file = indexer.build.read_file
    monkeypatch.setattr(indexer.build, "read_file", lambda f, m: (read.append(f.rel), real_read_file(f, m))[1])
    code, out, err = cli("update", str(corpus), "--index", str(index), "--json")
    assert code == 0, err
    assert sorted(read) == ["sport/900.txt", "tech/001.txt", "wire.jsonl"]
    report = json.loads(out)
    assert (report["added"], report["updated"], report["removed"], report["unchanged"]) == (3, 1, 2, 117)
    assert report["indexed"] == 121 and report["mode"] == "update"
    assert "update: 121 articles indexed (3 added, 1 updated, 2 removed, 117 unchanged), 0 skipped" in err
    assert total(index, "zqcorrected") == 1 and total(index, "zqwire") == 2
    reference = tmp_path / "reference"
    build_index([corpus], reference)
    assert serving_count(index) == serving_count(reference) == 121
    for query in ("said", "government", "zqwire", "film award", "economy growth"):
        with Searcher(index) as updated, Searcher(reference) as rebuilt:
            a, b = updated.search(query, limit=20), rebuilt.search(query, limit=20)
            assert a.total == b.total and {h.id for h in a.hits} == {h.id for h in b.hits}, query


def test_update_with_nothing_changed_keeps_the_serving_generation(corpus: Path, index: Path) -> None:
    before = IndexStore(index).current_name()
    code, out, err = cli("update", "--index", str(index), "--json")  # no folders: those the index came from
    assert code == 0, err
    assert json.loads(out)["unchanged"] == 120 and "nothing changed" in err
    assert IndexStore(index).current_name() == before


def test_missing_corpus_folder_is_refused_and_nothing_changes(tmp_path: Path, index: Path) -> None:
    before = IndexStore(index).current_name()
    code, _, err = cli("update", str(tmp_path / "unmounted"), "--index", str(index))
    assert code == 2 and "does not exist" in err and "Traceback" not in err
    assert IndexStore(index).current_name() == before and serving_count(index) == 120
    empty = tmp_path / "empty-mount-point"
    empty.mkdir()
    code, _, err = cli("update", str(empty), "--index", str(index))
    assert code == 2 and "refusing to remove all 120 articles" in err
    assert IndexStore(index).current_name() == before and serving_count(index) == 120


def test_second_run_exits_75_at_once_and_wait_waits(corpus: Path, index: Path) -> None:
    lock = IndexLock(index, "rebuild")
    lock.acquire()
    try:
        code, _, err = cli("update", str(corpus), "--index", str(index))
        assert code == 75 and "another run holds the index lock" in err and f"pid {os.getpid()}" in err
        assert cli("rebuild", str(corpus), "--index", str(index))[0] == 75
        code, out, _ = cli("status", "--index", str(index))
        assert f"in progress: rebuild by pid {os.getpid()}" in out
        threading.Timer(0.5, lock.release).start()
        code, _, err = cli("update", str(corpus), "--index", str(index), "--wait", "30")
        assert code == 0, err
    finally:
        lock.release()


def test_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path, corpus: Path, index: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from indexer.lock import IndexLock; "
        f"IndexLock({str(index)!r}, 'update').acquire(); print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    assert cli("update", str(corpus), "--index", str(index))[0] == 75
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    code, out, _ = cli("status", "--index", str(index))
    assert f"update by pid {holder.pid}" in out and "did not finish" in out and "in progress: no" in out
    (corpus / "tech" / "900.txt").write_text("Zqafter the takeover\n\nA new article.\n")
    code, _, err = cli("update", str(corpus), "--index", str(index))
    assert code == 0, err
    assert f"previous run (update by pid {holder.pid}" in err and "cleaned up" in err
    assert total(index, "zqafter") == 1


def test_status_shows_serving_generation_last_report_and_rollback(corpus: Path, index: Path) -> None:
    first = IndexStore(index).current_name()
    change_corpus(corpus)
    assert cli("update", str(corpus), "--index", str(index))[0] == 0
    code, out, _ = cli("status", "--index", str(index))
    assert code == 0
    assert "articles:    121" in out and "last run:    update ok" in out
    assert "3 added, 1 updated, 2 removed, 117 unchanged" in out
    assert f"kept:        {first}" in out and "rollback serves it again" in out
    data = json.loads(cli("status", "--index", str(index), "--json")[1])
    assert data["current"]["articles"] == 121 and data["running"] is None and data["rollback_to"] == first

    code, _, err = cli("rollback", "--index", str(index))
    assert code == 0 and f"back to {first}" in err
    assert IndexStore(index).current_name() == first and total(index, "zqwire") == 0 and serving_count(index) == 120
    code, _, err = cli("rollback", "--index", str(index))
    assert code == 2 and "nothing to roll back to" in err

    code, _, err = cli("update", str(corpus), "--index", str(index))  # updates go on from the rolled-back one
    assert code == 0 and total(index, "zqwire") == 2 and len(generation_dirs(index)) == 2


def test_keep_prunes_older_generations(corpus: Path, index: Path) -> None:
    for n in range(3):
        (corpus / "tech" / f"95{n}.txt").write_text(f"Zqkeep{n} story\n\nBody {n}.\n")
        assert cli("update", str(corpus), "--index", str(index), "--keep", "3")[0] == 0
    assert len(generation_dirs(index)) == 3
    assert cli("rebuild", str(corpus), "--index", str(index), "--keep", "1")[0] == 0
    assert generation_dirs(index) == [IndexStore(index).current_name()]


def test_file_vanishing_or_unreadable_mid_run_is_skipped_not_fatal(corpus: Path, index: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    change_corpus(corpus)
    gone, broken = corpus / "sport" / "900.txt", corpus / "wire.jsonl"

    def sabotage(point: str) -> None:  # after the corpus was listed, before the files are read
        if point == "file-read" and gone.exists():
            gone.unlink()
            broken.unlink()
            broken.mkdir()  # still there, but cannot be read as a file

    monkeypatch.setattr(indexer.build, "checkpoint", sabotage)
    code, out, err = cli("update", str(corpus), "--index", str(index), "--json")
    assert code == 1, err
    reasons = {Path(s["path"]).name: s["reason"] for s in json.loads(out)["skipped"]}
    assert "cannot read" in reasons["900.txt"] and "cannot read" in reasons["wire.jsonl"]
    assert "skipped" in err and total(index, "zqcorrected") == 1 and total(index, "zqwire") == 0
    monkeypatch.undo()
    broken.rmdir()
    add_jsonl(broken, [{"id": "wire-3", "headline": "Zqwire back", "body": "Readable again."}])
    code, out, err = cli("update", str(corpus), "--index", str(index), "--json")
    assert code == 0 and json.loads(out)["added"] == 1 and total(index, "zqwire") == 1


@pytest.mark.parametrize("command, point", [("rebuild", "file-indexed:40"), ("update", "deleted:1"), ("update", "checked:1")])
def test_disk_full_or_exception_exits_3_and_the_previous_index_serves(corpus: Path, index: Path, command: str, point: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    before = IndexStore(index).current_name()
    change_corpus(corpus)
    monkeypatch.setenv(FAIL_ENV, point)
    code, _, err = cli(command, str(corpus), "--index", str(index))
    assert code == 3, err
    assert "previous index still serving" in err and "No space left on device" in err and "Traceback" not in err
    assert IndexStore(index).current_name() == before and generation_dirs(index) == [before]
    assert serving_count(index) == 120 and total(index, "zqwire") == 0
    assert IndexStore(index).last_run()["outcome"] == "failed"  # type: ignore[index]
    monkeypatch.delenv(FAIL_ENV)
    assert cli(command, str(corpus), "--index", str(index))[0] == 0 and total(index, "zqwire") == 2


def test_a_real_write_error_exits_3(corpus: Path, index: Path) -> None:
    """The kernel refuses writes past 200 kB (RLIMIT_FSIZE, like a full disk): the index files cannot be written."""
    before = IndexStore(index).current_name()

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    done = subprocess.run([str(SEARCH_INDEX), "rebuild", str(corpus), "--index", str(index), "-q"],
                          capture_output=True, text=True, preexec_fn=limit_file_size, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "previous index still serving" in done.stderr and "Traceback" not in done.stderr
    assert IndexStore(index).current_name() == before and generation_dirs(index) == [before]
    assert serving_count(index) == 120


def test_long_lived_searcher_follows_switches_and_survives_pruning(corpus: Path, index: Path) -> None:
    with Searcher(index) as searcher:
        assert searcher.search("zqwire").total == 0
        change_corpus(corpus)
        update_index([corpus], index, keep=1)  # keep 1: the generation the searcher has open is deleted
        assert searcher.search("zqwire").total == 2
        (corpus / "wire.jsonl").unlink()
        build_index([corpus], index, keep=1)
        assert searcher.search("zqwire").total == 0 and searcher.search("zqcorrected").total == 1


def test_searcher_reopens_when_a_generation_vanishes_while_it_opens(corpus: Path, index: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The slowest reader: it read CURRENT, then two runs switched and pruned before it opened the folder."""
    searcher = Searcher(index)
    real_load = IndexStore.load
    first: list[str] = []

    def slow_load(store: IndexStore, name: str):  # type: ignore[no-untyped-def]
        if not first:
            first.append(name)
            change_corpus(corpus)
            update_index([corpus], index, keep=1)  # switches and deletes `name` before we open it
        return real_load(store, name)

    monkeypatch.setattr(IndexStore, "load", slow_load)
    results = searcher.search("zqwire")
    assert results.total == 2 and not (index / first[0]).exists()
    assert results.generation == IndexStore(index).current_name() != first[0]
    searcher.close()


@pytest.mark.parametrize("command", ["rebuild", "update"])
def test_a_damaged_serving_generation_is_replaced(corpus: Path, index: Path, command: str) -> None:
    shutil.rmtree(index / IndexStore(index).current_name())  # type: ignore[operator]
    assert "is missing or damaged (repair with: search-index rebuild)" in cli("status", "--index", str(index))[1]
    code, _, err = cli(command, str(corpus), "--index", str(index))
    assert code == 0 and "damaged" in err and serving_count(index) == 120


def test_update_without_an_index_builds_one(tmp_path: Path, corpus: Path) -> None:
    code, out, err = cli("update", str(corpus), "--index", str(tmp_path / "fresh"), "--json")
    assert code == 0 and json.loads(out)["added"] == 120 and "no index yet" in err


def test_installed_command_runs_an_update(corpus: Path, index: Path) -> None:
    change_corpus(corpus)
    done = subprocess.run([str(SEARCH_INDEX), "update", "--index", str(index), "--json"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == 3 and "update: 121 articles indexed" in done.stderr


def test_an_id_freed_by_a_removed_file_goes_to_its_duplicate(tmp_path: Path) -> None:
    corpus, index = tmp_path / "feeds", tmp_path / "ix"
    corpus.mkdir()
    add_jsonl(corpus / "a.jsonl", [{"id": "story-1", "headline": "Zqfirst version", "body": "From feed a."}])
    add_jsonl(corpus / "b.jsonl", [{"id": "story-1", "headline": "Zqsecond version", "body": "From feed b."},
                                   {"id": "story-2", "headline": "Other", "body": "Also from b."}])
    code, out, _ = cli("rebuild", str(corpus), "--index", str(index), "--json")
    assert code == 1 and "duplicate id 'story-1'" in json.loads(out)["skipped"][0]["reason"]
    assert total(index, "zqfirst") == 1 and total(index, "zqsecond") == 0
    (corpus / "a.jsonl").unlink()
    code, out, _ = cli("update", str(corpus), "--index", str(index), "--json")
    assert code == 0 and json.loads(out)["skipped"] == []
    assert total(index, "zqfirst") == 0 and total(index, "zqsecond") == 1 and serving_count(index) == 2
