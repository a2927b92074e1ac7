"""Every engine answers the same query trees alike: filters, date order, updates, term statistics."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BBC, BUNDLED_CORPUS

from indexer import build_index
from indexer.analysis import analysed_text, terms
from indexer.cli import main as index_main
from indexer.config import Config
from indexer.engines import Filters, get_engine
from indexer.generations import IndexStore
from indexer.models import Article
from query import Searcher, search
from query.syntax import parse

FEED = [
    {"id": "a1", "headline": "Floods close the Bank of England", "body": "Water rose in the City of London.",
     "date": "2020-08-03", "source": "Daily Mail", "categories": ["news", "Weather Desk"]},
    {"id": "a2", "headline": "Bank floods again", "body": "The bank of England stayed shut.",
     "date": "2020-09-15T10:00:00", "source": "Reuters", "categories": ["business"]},
    {"id": "a3", "headline": "Floods in England", "body": "A bank holiday was cancelled.",
     "date": "2019-01-01", "source": "Daily Mail", "categories": ["news"]},
    {"id": "a4", "headline": "Undated floods", "body": "No date on this one about floods."},
]


@pytest.fixture(scope="module")
def feed_index(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Path:
    corpus = tmp_path_factory.mktemp("feed")
    (corpus / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in FEED) + "\n", encoding="utf-8")
    index_dir = tmp_path_factory.mktemp(f"feed-index-{engine}")
    build_index([corpus], index_dir, Config(index_dir=index_dir, engine=engine))
    return index_dir


def engine_search(index_dir: Path, query: str, filters: Filters | None = None, sort_by_date: bool = False) -> list[str]:
    generation = IndexStore(index_dir).current()
    index = get_engine(generation.engine).open(generation.path)
    try:
        page = index.search(parse(query).root, Config().weights, 10, filters, sort_by_date)
        return [hit.article.id for hit in page.hits]
    finally:
        index.close()


def test_filters_restrict_without_reordering(feed_index: Path) -> None:
    assert set(engine_search(feed_index, "floods")) == {"a1", "a2", "a3", "a4"}
    assert set(engine_search(feed_index, "floods", Filters(since="2020-01-01"))) == {"a1", "a2"}
    assert set(engine_search(feed_index, "floods", Filters(until="2020-09-15"))) == {"a1", "a2", "a3"}
    assert set(engine_search(feed_index, "floods", Filters(since="2020-08-03", until="2020-08-03"))) == {"a1"}
    assert set(engine_search(feed_index, "floods", Filters(source="daily mail"))) == {"a1", "a3"}
    assert set(engine_search(feed_index, "floods", Filters(category="Weather Desk"))) == {"a1"}
    assert set(engine_search(feed_index, "floods", Filters(exclude_ids=("a1", "a4")))) == {"a2", "a3"}


def test_sort_by_date_newest_first(feed_index: Path) -> None:
    assert engine_search(feed_index, "floods", sort_by_date=True)[:3] == ["a2", "a1", "a3"]


def test_phrase_ignores_stop_words_and_fields_restrict(feed_index: Path) -> None:
    assert set(engine_search(feed_index, '"bank of england"')) == {"a1", "a2"}
    assert engine_search(feed_index, 'headline:"bank of england"') == ["a1"]
    assert set(engine_search(feed_index, "bank -headline:bank")) == {"a3"}
    assert set(engine_search(feed_index, "cancel* OR shut")) == {"a2", "a3"}
    assert set(engine_search(feed_index, "Londn~")) == {"a1"}


def test_stored_article_comes_back_whole(feed_index: Path) -> None:
    hit = search("undated", index=feed_index).hits[0]
    assert hit.id == "a4" and hit.date is None and hit.snippets[0].text == "No date on this one about floods."
    hit = search("cancelled", index=feed_index).hits[0]
    assert hit.categories == ("news",) and hit.source == "Daily Mail" and hit.date == "2019-01-01"


def test_update_replaces_by_id_and_deletes_by_path(tmp_path: Path, engine: str) -> None:
    engine_ = get_engine(engine)
    generation = tmp_path / "gen"
    generation.mkdir()
    writer = engine_.create(generation)
    writer.add(Article(id="x", headline="Old headline about zebras", path="/c/x.txt"))
    writer.add(Article(id="y", headline="Giraffes", path="/c/y.txt"))
    writer.add(Article(id="z", headline="Lions", path="/c/z.txt"))
    writer.commit()
    writer = engine_.update(generation)
    writer.add(Article(id="x", headline="New headline about okapis", path="/c/x.txt"))
    writer.delete_path("/c/y.txt")
    writer.commit()
    index = engine_.open(generation)
    try:
        assert index.doc_count() == 2
        assert index.search(parse("okapis").root, Config().weights, 10).total == 1
        assert index.search(parse("zebras").root, Config().weights, 10).total == 0
        assert index.search(parse("giraffes").root, Config().weights, 10).total == 0
        # did-you-mean decides on these counts; a deleted article stays in tantivy's term dictionary
        # until its segment is merged away (the live "Lions" keeps this one), and is not counted
        counts = [index.doc_frequency(*terms(word)) for word in ("zebras", "okapis", "giraffes", "lions", "headline")]
        assert counts == [0, 1, 0, 1, 1]
        assert [index.doc_frequency(*terms(word), "headline") for word in ("zebras", "lions")] == [0, 1]
    finally:
        index.close()


def test_equal_scores_at_the_cut_go_to_the_first_ids(tmp_path: Path, engine: str) -> None:
    """Only the hits that can make the page are loaded: the best and every one tied with the last of
    them, so that a tie is broken by id, never by the order the articles were stored in."""
    engine_ = get_engine(engine)
    writer = engine_.create(tmp_path)
    names = [f"walrus-{n:02d}" for n in (7, 3, 14, 0, 11, 5, 9, 1, 12, 6, 2, 13, 8, 4, 10)]
    for name in names:
        writer.add(Article(id=name, headline="Walrus seen on the beach", path=f"/c/{name}.txt"))
    writer.add(Article(id="walrus-zz", headline="Walrus walrus seen again", path="/c/zz.txt"))
    writer.commit()
    index = engine_.open(tmp_path)
    try:
        for limit in (1, 4, 16):
            page = index.search(parse("walrus").root, Config().weights, limit)
            assert page.total == 16
            assert [hit.article.id for hit in page.hits] == ["walrus-zz", *sorted(names)][:limit]
    finally:
        index.close()


def test_document_frequency_counts_each_field(bbc_index: Path) -> None:
    generation = IndexStore(bbc_index).current()
    index = get_engine(generation.engine).open(generation.path)
    try:
        assert index.doc_count() == 2226
        assert index.doc_frequency("jalalabad") >= 1
        assert index.doc_frequency("zzqxvnonexistent") == 0
    finally:
        index.close()


def test_engines_rank_the_same_articles_first(tmp_path_factory: pytest.TempPathFactory) -> None:
    pytest.importorskip("tantivy")
    tops = {}
    for name in ("whoosh", "tantivy"):
        index_dir = tmp_path_factory.mktemp(f"bbc-small-{name}")
        build_index([BUNDLED_CORPUS, BBC / "politics"], index_dir, Config(index_dir=index_dir, engine=name))
        with Searcher(index_dir) as searcher:
            tops[name] = [searcher.search(q, limit=3).hits[0].id for q in ("Jalalabad checkpoints", "Gibraltar Straw", "Shevardnadze amnesty", '"jack straw" Iraq')]
    assert tops["whoosh"] == tops["tantivy"]


def test_cli_builds_with_the_chosen_engine_and_search_follows_it(tmp_path: Path, engine: str) -> None:
    index_dir = tmp_path / "ix"
    result = CliRunner().invoke(index_main, ["build", str(BUNDLED_CORPUS), "--index", str(index_dir), "--engine", engine, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["engine"] == engine
    generation = IndexStore(index_dir).current()
    assert json.loads((generation.path / "meta.json").read_text())["engine"] == engine
    assert search("Jalalabad checkpoints", index=index_dir).hits[0].id == "founding-article.txt"


def test_unknown_engine_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(index_main, ["build", str(BUNDLED_CORPUS), "--index", str(tmp_path / "ix"), "--engine", "lucene"])
    assert result.exit_code == 2 and "unknown engine" in result.stderr and "tantivy" in result.stderr


def test_fast_analysis_path_gives_the_same_terms() -> None:
    text = (BUNDLED_CORPUS / "founding-article.txt").read_text(encoding="utf-8") + " Café O'Neill's don’t IS-KP 1,000"
    assert analysed_text(text).split() == terms(text)


def test_parallel_parsing_gives_the_same_items_in_the_same_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from indexer import parallel
    from indexer.readers import find_files

    (tmp_path / "bad.jsonl").write_text('{"headline": "Fine", "body": "Body."}\n{broken\n', encoding="utf-8")
    files, _ = find_files([BBC / "tech", tmp_path])
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "BATCH_BYTES", 64 * 1024)
    monkeypatch.setattr(parallel, "THREADED_LIBRARIES", frozenset())  # the semantic tests may have loaded the model
    one = [(f, items) for f, _, items in parallel.read_files(files, 10**7, workers=1)]
    found = list(parallel.read_files(files, 10**7, workers=2, before=_size_first))
    two = [(f, items) for f, _, items in found]
    assert [f for f, _ in one] == [f for f, _ in two] == files
    assert [size for _, size, _ in found] == [f.size for f in files]
    def plain(items: list) -> list:
        return [(i.id, i.headline, i.bullets, i.body, i.captions, i.path, i.line) if isinstance(i, Article) else str(i) for i in items]

    assert [plain(items) for _, items in one] == [plain(items) for _, items in two]
    articles = [i for _, items in two for i in items if isinstance(i, Article)]
    assert all(i.terms == {n: analysed_text("\n".join(i.section_text(n))) for n in i.terms} for i in articles)
    assert any(not isinstance(i, Article) and i.line == 2 for _, items in two for i in items)


def test_no_parser_processes_are_forked_once_the_model_runtime_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork while onnxruntime's threads hold locks can leave the children deadlocked."""
    import sys

    from indexer import parallel
    from indexer.readers import find_files

    files, _ = find_files([BBC / "tech"])
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setitem(sys.modules, "onnxruntime", sys.modules.get("onnxruntime") or object())  # type: ignore[arg-type]
    items = [i for _, _, found in parallel.read_files(files, 10**7, workers=2) for i in found]
    assert len(items) == 401 and not any(hasattr(i, "terms") for i in items)  # read in this process, not analysed


def _size_first(file: object) -> int:
    """A `before` hook for the parallel test (module level: workers get it pickled)."""
    return file.size  # type: ignore[attr-defined]


def test_update_command_adds_a_new_file_and_leaves_the_old_generation_alone(tmp_path: Path, engine: str) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "ix"
    corpus.mkdir()
    (corpus / "founding-article.txt").write_bytes((BUNDLED_CORPUS / "founding-article.txt").read_bytes())
    assert CliRunner().invoke(index_main, ["build", str(corpus), "--index", str(index_dir), "--engine", engine, "-q"]).exit_code == 0
    before = IndexStore(index_dir).current()
    (corpus / "zebra.txt").write_text("Zebras cross the Jalalabad road\n\nA herd of zebras was seen.", encoding="utf-8")
    result = CliRunner().invoke(index_main, ["update", str(corpus), "--index", str(index_dir), "--json"])
    assert result.exit_code == 0, result.output
    assert IndexStore(index_dir).current().engine == engine
    assert [h.id for h in search("zebras", index=index_dir).hits] == ["zebra.txt"]
    old = get_engine(engine).open(before.path)
    try:
        assert old.search(parse("zebras").root, Config().weights, 10).total == 0 and old.doc_count() == 1
    finally:
        old.close()


READ_ONLY_SEARCH = r"""
import json, os, shutil, sys, tempfile
from query.cli import main
from query.searcher import Searcher

index, drop = sys.argv[1], sys.argv[2] == "drop"
# Warm up on a copy: the interpreter's own files are root's, so everything a search imports is
# imported now, while the process may still read them.
copy = os.path.join(tempfile.mkdtemp(), "copy")
shutil.copytree(index, copy)
with Searcher(copy) as warm:
    warm.search("zebras", limit=3)
shutil.rmtree(os.path.dirname(copy))
if drop:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
assert not os.access(index, os.W_OK), "the search process can still write the index folder"
with Searcher(index) as searcher:
    results = searcher.search("zebras", limit=3)
print(json.dumps({"ids": [h.id for h in results.hits], "generation": results.generation, "warning": results.warning}))
sys.stdout.flush()
sys.argv = ["search", "--index", index, "--json", "zebras"]
main()
"""


def test_opening_a_generation_leaves_no_folder_behind(bbc_index: Path, engine: str) -> None:
    """tantivy's generation is opened through a private folder of links, removed once open; the reader
    tantivy starts with an index could take its lock in it anew while it was being removed, and left
    the folder behind (1-3 times in 40 opens)."""
    import os
    import tempfile

    if engine != "tantivy":
        pytest.skip("only tantivy opens a generation through links")
    ours = f"article-search-tantivy-{os.getpid()}-"
    parents = [Path(p) for p in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm", tempfile.gettempdir()) if p and Path(p).is_dir()]
    generation = IndexStore(bbc_index).current()
    for _ in range(60):
        index = get_engine(generation.engine).open(generation.path)
        assert index.search(parse("jalalabad").root, Config().weights, 10).total >= 1
        index.close()
    assert not [p for parent in parents for p in parent.glob(ours + "*")]


def test_an_index_is_searched_without_write_access(tmp_path: Path, engine: str) -> None:
    """Issue 11 item 9: searching never needs write access (tantivy took a lock file even to read, so a
    read-only user got exit 2 or an older generation). Tests run as root, whom permissions do not stop:
    the search runs in a child process that drops to nobody; as another user the index is made read-only."""
    import os
    import shutil
    import stat
    import subprocess
    import sys
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="article-search-read-only-"))  # nobody can reach it, unlike tmp_path
    folder.chmod(0o755)
    old_umask = os.umask(0o022)  # what people have: files readable by everyone, writable by their owner
    try:
        corpus, index_dir = folder / "corpus", folder / "index"
        corpus.mkdir()
        shutil.copy(BUNDLED_CORPUS / "founding-article.txt", corpus)
        build_index([corpus], index_dir, Config(index_dir=index_dir, engine=engine))
        (corpus / "zebra.txt").write_text("Zebras cross the Jalalabad road\n\nA herd of zebras was seen.", encoding="utf-8")
        build_index([corpus], index_dir, Config(index_dir=index_dir, engine=engine), mode="rebuild")
        current = IndexStore(index_dir).current()
        if os.geteuid() != 0:
            for path in [index_dir, *index_dir.rglob("*")]:
                path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        before = sorted((str(p), p.stat().st_mtime_ns) for p in index_dir.rglob("*"))
        child = subprocess.run([sys.executable, "-c", READ_ONLY_SEARCH, str(index_dir), "drop" if os.geteuid() == 0 else "keep"],
                               capture_output=True, text=True, timeout=300, cwd=folder,
                               env={**os.environ, "ARTICLE_SEARCH_CONFIG": str(folder / "no-search.toml"),
                                    "XDG_DATA_HOME": str(folder)})
        assert child.returncode == 0, child.stderr[-2000:]
        api, cli = child.stdout.split("\n", 1)
        assert json.loads(api) == {"ids": ["zebra.txt"], "generation": current.name, "warning": None}
        assert [h["id"] for h in json.loads(cli)["hits"]] == ["zebra.txt"]
        assert sorted((str(p), p.stat().st_mtime_ns) for p in index_dir.rglob("*")) == before  # nothing written
    finally:
        os.umask(old_umask)
        for path in [folder, *folder.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
        shutil.rmtree(folder, ignore_errors=True)


def test_did_you_mean_ties_break_the_same_way_on_every_engine() -> None:
    """Equal weighed counts go to the most articles, then fewer edits, then the alphabetically first
    (before, the alphabetically last won, and each engine listed other candidates)."""
    from query.suggest import correction

    class Terms:
        counts: dict[str, int] = {}

        def doc_frequency(self, term: str) -> int:
            return self.counts.get(term, 0)

        def similar_terms(self, term: str, max_edits: int) -> list[tuple[str, int]]:
            return sorted(self.counts.items(), reverse=True)

    Terms.counts = {"aguilera": 7, "angulera": 7}
    assert correction("agulera", Terms()) == "aguilera"
    Terms.counts = {"coronavis": 300, "coronavirus": 30_000}  # 300 / 100 = 30,000 / 100**2
    assert correction("coronavir", Terms()) == "coronavirus"
