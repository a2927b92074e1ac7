"""Faults: a read-only index folder, damaged index files, a full disk during a build.

Searches say the index is damaged and how to rebuild it, and answer from the previous generation
when there is one; a failed build leaves the serving generation untouched.
"""
from __future__ import annotations

import builtins
import errno
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from conftest import BBC
from hostile_helpers import hit_ids, json_error, run_build, run_search

from indexer.errors import IndexDamaged
from indexer.generations import IndexStore
from query import Searcher

CORPUS = BBC / "tech"


@pytest.fixture(scope="module")
def two_generations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of BBC tech built twice: a serving generation and the previous one."""
    index = tmp_path_factory.mktemp("two-generations")
    for _ in range(2):
        assert run_build(CORPUS, index).exit_code == 0
    assert len(IndexStore(index).generations()) == 2
    return index


@pytest.fixture
def index_copy(two_generations: Path, tmp_path: Path) -> Path:
    """A private copy of the two-generation index, free to damage."""
    copy = tmp_path / "index"
    shutil.copytree(two_generations, copy)
    return copy


def serving(index: Path) -> Path:
    store = IndexStore(index)
    return store.root / (store.current_name() or "")


def previous(index: Path) -> Path:
    store = IndexStore(index)
    (older,) = [g.path for g in store.generations() if g.name != store.current_name()]
    return older


def segment_files(path: Path) -> list[Path]:
    """A whoosh segment: one compound .seg file, or its parts (terms, postings) as separate files."""
    return list(path.glob("*.seg")) or [*path.glob("*.trm"), *path.glob("*.pst")]


def truncate(path: Path) -> None:
    for file in segment_files(path):
        os.truncate(file, file.stat().st_size // 2)


def delete_segment(path: Path) -> None:
    for file in segment_files(path):
        file.unlink()


def delete_toc(path: Path) -> None:
    for file in path.glob("_MAIN_*.toc"):
        file.unlink()


def delete_meta(path: Path) -> None:
    (path / "meta.json").unlink()


DAMAGE: list[tuple[str, Callable[[Path], None]]] = [
    ("segment truncated", truncate),
    ("segment deleted", delete_segment),
    ("table of contents deleted", delete_toc),
    ("meta.json deleted", delete_meta),
    ("generation folder deleted", lambda path: shutil.rmtree(path)),
]


@pytest.mark.parametrize("damage", [pytest.param(d, id=case) for case, d in DAMAGE])
def test_damaged_serving_generation_falls_back_to_the_previous(index_copy: Path, damage: Callable[[Path], None]) -> None:
    older = previous(index_copy).name
    damage(serving(index_copy))
    result = run_search(index_copy, "broadband")
    assert result.exit_code == 0 and hit_ids(result)
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("search: warning: ") and ("damaged" in warning or "missing" in warning)
    assert f"answering from the previous generation {older}" in warning
    assert f"rebuild with: search-index rebuild {CORPUS.resolve()} --index {index_copy}" in warning  # folders as recorded: resolved
    with Searcher(index_copy) as searcher:
        assert searcher.search("broadband").generation == older


@pytest.mark.parametrize("damage", [pytest.param(d, id=case) for case, d in DAMAGE])
def test_damage_without_a_previous_generation_says_how_to_rebuild(index_copy: Path, damage: Callable[[Path], None]) -> None:
    shutil.rmtree(previous(index_copy))
    damage(serving(index_copy))
    result = run_search(index_copy, "broadband")
    assert result.exit_code == 2 and json_error(result)
    (line,) = result.stderr.splitlines()
    assert line.startswith("search: ") and ("damaged" in line or "missing" in line)
    assert "; rebuild it with: search-index rebuild " in line and line.endswith(f" --index {index_copy}")
    with pytest.raises(IndexDamaged):
        Searcher(index_copy).search("broadband")


def test_damage_found_while_searching_switches_to_the_previous_generation(index_copy: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Garbled bytes may open fine and fail only when a posting or stored article is read."""
    from indexer.engines.whoosh import WhooshIndex

    damaged = serving(index_copy)
    real_search = WhooshIndex.search

    def search(self: WhooshIndex, *args: Any, **kwargs: Any) -> Any:
        if self._directory == damaged:
            raise IndexDamaged(f"the index at {damaged} is damaged (error: Error -3 while decompressing data)")
        return real_search(self, *args, **kwargs)

    with Searcher(index_copy) as searcher:
        assert searcher.search("broadband").generation == damaged.name
        monkeypatch.setattr(WhooshIndex, "search", search)
        results = searcher.search("broadband")
        assert results.generation == previous(index_copy).name and results.hits
        assert searcher.warning and "decompressing" in searcher.warning
        # the advice names the folders the index was built from, not the bundled corpus
        assert results.warning == searcher.warning
        assert f"rebuild with: search-index rebuild {CORPUS.resolve()} --index {index_copy}" in results.warning


def test_a_read_error_that_a_fresh_open_does_not_repeat_is_not_damage(index_copy: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """One failed read (a file replaced under an open index, a glitch) re-opens the generation and
    searches again; the serving generation keeps answering, with no warning."""
    from indexer.engines.whoosh import WhooshIndex

    real_search = WhooshIndex.search
    failures = [IndexDamaged(f"the index at {serving(index_copy)} is damaged (struct.error: unpack requires a buffer)")]

    def search(self: WhooshIndex, *args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real_search(self, *args, **kwargs)

    with Searcher(index_copy) as searcher:
        expected = [h.id for h in searcher.search("broadband").hits]
        monkeypatch.setattr(WhooshIndex, "search", search)
        results = searcher.search("broadband")
        assert [h.id for h in results.hits] == expected and not failures
        assert results.generation == serving(index_copy).name and results.warning is None and searcher.warning is None


def test_a_rebuild_clears_the_fallback(index_copy: Path) -> None:
    truncate(serving(index_copy))
    with Searcher(index_copy) as searcher:
        assert searcher.search("broadband").generation == previous(index_copy).name
        assert run_build(CORPUS, index_copy).exit_code == 0
        results = searcher.search("broadband")
        assert results.generation == serving(index_copy).name and searcher.warning is None


def _deny_writes(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Make every write under `root` fail as on a read-only file system (needed when tests run as
    root, which ignores permission bits)."""
    def guarded(path: Any) -> bool:
        try:
            return Path(os.fsdecode(path)).resolve().is_relative_to(root.resolve())
        except (TypeError, ValueError):
            return False

    def refuse(path: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))

    real_open, real_os_open, real_mkdir = builtins.open, os.open, os.mkdir

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+") and guarded(file):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and guarded(path):
            refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if guarded(path):
            refuse(path)
        real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(os, "mkdir", mkdir)


@pytest.fixture
def read_only(index_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for path in [index_copy, *index_copy.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    if os.geteuid() == 0:
        _deny_writes(monkeypatch, index_copy)
    yield index_copy
    monkeypatch.undo()
    for path in [index_copy, *index_copy.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def test_read_only_index_still_answers(read_only: Path) -> None:
    result = run_search(read_only, "broadband")
    assert result.exit_code == 0 and hit_ids(result) and result.stderr == ""


def test_build_into_a_read_only_index_fails_cleanly(read_only: Path) -> None:
    before = IndexStore(read_only).current_name()
    result = run_build(CORPUS, read_only)
    assert result.exit_code == 3 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"search-index: cannot write to the index folder {read_only}: ")
    assert IndexStore(read_only).current_name() == before


def _disk_full(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["indexer.engines.whoosh.WhooshWriter.add", "indexer.engines.whoosh.WhooshWriter.commit",
                                   "indexer.generations.IndexStore.write_meta", "indexer.generations.IndexStore.publish"])
def test_disk_full_during_a_build_leaves_the_serving_generation(index_copy: Path, monkeypatch: pytest.MonkeyPatch,
                                                                where: str) -> None:
    before = sorted(p.name for p in index_copy.iterdir())
    serving_before = IndexStore(index_copy).current_name()
    monkeypatch.setattr(where, _disk_full)
    result = run_build(CORPUS, index_copy)
    monkeypatch.undo()
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.splitlines()
    assert "No space left on device" in line and "previous index still serving" in line
    assert IndexStore(index_copy).current_name() == serving_before
    assert sorted(p.name for p in index_copy.iterdir()) == before, "the half-built generation is removed"
    search = run_search(index_copy, "broadband")
    assert search.exit_code == 0 and search.stderr == ""


def test_a_bug_inside_the_engine_is_not_index_damage(index_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A programming error raised while searching reaches the caller as itself; the serving
    generation is not set aside, and the next search answers from it without a warning."""
    from indexer.engines.whoosh import WhooshIndex

    real_search = WhooshIndex._search

    def broken(self: WhooshIndex, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")

    with Searcher(index_copy) as searcher:
        monkeypatch.setattr(WhooshIndex, "_search", broken)
        with pytest.raises(TypeError):
            searcher.search("broadband")
        monkeypatch.setattr(WhooshIndex, "_search", real_search)
        results = searcher.search("broadband")
        assert results.generation == serving(index_copy).name and results.hits
        assert results.warning is None and searcher.warning is None
