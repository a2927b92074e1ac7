"""Record-level updates (issue 16): a JSONL file, a feed or a Reuters file that changed is re-read, but
only its new and changed articles are written and only its removed ones deleted; the report counts them.

The real-size tests index 12,000 real Daily Mail records (one JSONL file; each body cut to its first three
paragraphs, so that the build costs the suite about a minute rather than three: `bench/update.py --jsonl`
times the whole records) once per module and change it step by step, as a nightly feed dump would be. The small tests compare every update with a full build
of the same corpus: same articles stored, same manifest, same duplicate reports.
"""
from __future__ import annotations

import gzip
import json
from html import escape
from pathlib import Path
from typing import Iterator

import pytest
from conftest import CORPORA, DAILYMAIL
from nightly_support import cli
from test_nightly_crash import killed_at

from indexer.build import build_index
from indexer.config import Config
from indexer.engines import get_engine
from indexer.engines.whoosh import WhooshWriter
from indexer.generations import MANIFEST, IndexStore
from indexer.manifest import FileEntry, Manifest
from indexer.models import Article, BuildReport
from indexer.readers import find_files, read_file
from indexer.update import update_index
from query import Searcher

REAL_SIZE = 12_000
REUTERS = CORPORA / "reuters21578" / "reut2-000.sgm"


def dailymail_lines() -> Iterator[str]:
    """The Daily Mail records as JSONL lines, in the corpus's order."""
    for part in sorted(DAILYMAIL.glob("*.jsonl")):
        with open(part, encoding="utf-8") as stream:
            yield from stream


def take(count: int, start: int = 0) -> list[str]:
    lines = dailymail_lines()
    for _ in range(start):
        next(lines)
    return [next(lines) for _ in range(count)]


def record(line: str) -> dict:
    return json.loads(line)


def shortened(line: str) -> str:
    """The record with its body cut to its first three paragraphs."""
    data = record(line)
    data["body"] = "\n\n".join(data["body"].split("\n\n")[:3])
    return json.dumps(data, ensure_ascii=False) + "\n"


def with_words(line: str, words: str) -> str:
    """The record with a sentence added to its body, still one line."""
    data = record(line)
    data["body"] = f"{data['body']}\n\n{words}"
    return json.dumps(data) + "\n"


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def counts(report: BuildReport | dict) -> tuple[int, int, int, int]:
    """(added, updated, removed, unchanged), as the report shows them."""
    data = report if isinstance(report, dict) else report.to_dict()
    return data["added"], data["updated"], data["removed"], data["unchanged"]


def stored(index: Path) -> tuple[dict[str, Article], dict[str, FileEntry]]:
    """Every article the serving generation holds, by id, and its manifest's file entries."""
    generation = IndexStore(index).current()
    manifest = Manifest.load(generation.path)
    assert manifest is not None
    opened = get_engine(generation.engine).open(generation.path)
    try:
        assert opened.doc_count() == manifest.article_count == generation.meta.articles
        articles = {i: opened.article(i) for entry in manifest.files.values() for i in entry.ids}
    finally:
        opened.close()
    return articles, dict(manifest.files)


def assert_same_as_a_full_build(index: Path, folders: list[Path], engine: str, reference: Path) -> None:
    """A full build of the same folders stores the same articles under the same ids, with the same manifest
    (hashes, duplicates, skipped records and their reasons)."""
    build_index(folders, reference, Config(index_dir=reference, engine=engine))
    updated_articles, updated_files = stored(index)
    built_articles, built_files = stored(reference)
    assert updated_articles.keys() == built_articles.keys()
    assert updated_articles == built_articles
    assert updated_files == built_files


def top_hit(index: Path, query: str) -> tuple[str, str]:
    """The first hit's id and location (path:line), as a user sees them."""
    with Searcher(index) as searcher:
        hit = searcher.search(query, limit=1).hits[0]
        return hit.id, hit.location


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the articles the whoosh writer is given (the articles an update re-indexes)."""
    written: list[str] = []
    real_add = WhooshWriter.add

    def add(self: WhooshWriter, article: Article) -> None:
        written.append(article.id)
        real_add(self, article)

    monkeypatch.setattr(WhooshWriter, "add", add)
    return written


# --- real size: 12,000 Daily Mail records in one JSONL file, built once -----------------------------------


@pytest.fixture(scope="module")
def dailymail(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """(corpus folder, index, records held back for appending): the index built once by `rebuild`, with
    whoosh's multi-process writer (over its 2,000-article threshold)."""
    folder = tmp_path_factory.mktemp("dailymail-feed")
    corpus, index = folder / "corpus", folder / "index"
    corpus.mkdir()
    lines = [shortened(line) for line in take(REAL_SIZE + 40)]
    write_lines(corpus / "dailymail.jsonl", lines[:REAL_SIZE])
    code, out, err = cli("rebuild", str(corpus), "--index", str(index), "--json", "-q")
    assert code == 0, err
    assert json.loads(out)["indexed"] == REAL_SIZE and REAL_SIZE >= WhooshWriter.PARALLEL_FROM
    return corpus, index, lines[REAL_SIZE:]


def current_lines(corpus: Path) -> list[str]:
    return (corpus / "dailymail.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)


def test_appending_20_records_to_12000_indexes_exactly_20(dailymail: tuple[Path, Path, list[str]], writes: list[str]) -> None:
    corpus, index, spare = dailymail
    before = len(current_lines(corpus))
    appended = spare[:20]
    with open(corpus / "dailymail.jsonl", "a", encoding="utf-8") as stream:
        stream.writelines(appended)
    code, out, err = cli("update", str(corpus), "--index", str(index), "--json")
    assert code == 0, err
    assert counts(json.loads(out)) == (20, 0, 0, before)
    assert f"({20} added, 0 updated, 0 removed, {before:,} unchanged)" in err
    assert sorted(writes) == sorted(record(line)["id"] for line in appended)
    last = record(appended[-1])
    assert top_hit(index, last["headline"]) == (last["id"], f"{corpus / 'dailymail.jsonl'}:{before + 20}")


def test_editing_one_record_reindexes_one(dailymail: tuple[Path, Path, list[str]], writes: list[str]) -> None:
    corpus, index, _ = dailymail
    lines = current_lines(corpus)
    lines[4999] = with_words(lines[4999], "An earlier version misnamed the zqamended council.")
    write_lines(corpus / "dailymail.jsonl", lines)
    report = update_index([corpus], index)
    assert counts(report) == (0, 1, 0, len(lines) - 1)
    edited = record(lines[4999])["id"]
    assert writes == [edited]
    assert top_hit(index, "zqamended council") == (edited, f"{corpus / 'dailymail.jsonl'}:5000")


def test_removing_the_last_record_deletes_one(dailymail: tuple[Path, Path, list[str]], writes: list[str]) -> None:
    corpus, index, _ = dailymail
    lines = current_lines(corpus)
    gone = record(lines[-1])
    write_lines(corpus / "dailymail.jsonl", lines[:-1])
    report = update_index([corpus], index)
    assert counts(report) == (0, 0, 1, len(lines) - 1) and writes == []
    with Searcher(index) as searcher:
        assert gone["id"] not in {h.id for h in searcher.search(gone["headline"], limit=50).hits}


def test_a_record_inserted_2500_lines_before_the_end_moves_them(dailymail: tuple[Path, Path, list[str]],
                                                                writes: list[str]) -> None:
    """More than the 2,000 articles at which whoosh's writer changes gear: each record below the insert
    is written again, because its line number (shown with every hit) changed."""
    corpus, index, spare = dailymail
    lines = current_lines(corpus)
    at = len(lines) - 2500
    inserted = spare[30]
    write_lines(corpus / "dailymail.jsonl", lines[:at] + [inserted] + lines[at:])
    report = update_index([corpus], index)
    assert counts(report) == (1, 2500, 0, len(lines) - 2500)
    assert len(writes) == 2501
    assert any("2,500 of the updated articles only moved to another line" in note for note in report.notes)
    moved = record(lines[-1])
    assert top_hit(index, moved["headline"]) == (moved["id"], f"{corpus / 'dailymail.jsonl'}:{len(lines) + 1}")


def test_the_updated_index_holds_what_a_full_build_would(dailymail: tuple[Path, Path, list[str]]) -> None:
    """Every article stored after the updates equals the article the reader makes of the file now."""
    corpus, index, _ = dailymail
    articles, _ = stored(index)
    files, _ = find_files([corpus])
    expected = {a.id: a for f in files for a in read_file(f, Config().max_article_bytes) if isinstance(a, Article)}
    assert len(expected) == len(current_lines(corpus))
    assert articles == expected


# --- small corpora, every update compared with a full build -------------------------------------------------


@pytest.fixture(params=["whoosh", "tantivy"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each engine; whoosh writes these small builds with its multi-process writer, as it does big ones."""
    if request.param != "whoosh":
        pytest.importorskip(request.param)
    monkeypatch.setattr(WhooshWriter, "PARALLEL_FROM", 20)
    return request.param


class Feeds:
    """Corpus folders, an index of them on one engine, and a full build to compare with after each update."""

    def __init__(self, root: Path, engine: str, folders: tuple[str, ...] = ("feeds",)) -> None:
        self.root, self.engine = root, engine
        self.folders = [root / name for name in folders]
        for folder in self.folders:
            folder.mkdir(parents=True)
        self.index = root / "index"
        self.builds = 0

    def build(self) -> BuildReport:
        return build_index(self.folders, self.index, Config(index_dir=self.index, engine=self.engine))

    def update(self) -> BuildReport:
        """Update, then check the result against a full build of the same folders."""
        report = update_index(self.folders, self.index, Config(index_dir=self.index, engine=self.engine))
        self.builds += 1
        assert_same_as_a_full_build(self.index, self.folders, self.engine, self.root / f"reference-{self.builds}")
        return report


def wire_feed(root: Path, engine: str, lines: list[str]) -> tuple[Feeds, Path]:
    """A folder holding one JSONL file of these lines, indexed by a full build."""
    feeds = Feeds(root, engine)
    path = feeds.folders[0] / "wire.jsonl"
    write_lines(path, lines)
    feeds.build()
    return feeds, path


def skipped(report: BuildReport) -> list[tuple[str, int | None, str]]:
    return sorted(((s.path, s.line, s.reason) for s in report.skipped), key=str)


def test_truncated_mid_record_then_completed(tmp_path: Path, engine: str) -> None:
    lines = take(60)
    feeds, path = wire_feed(tmp_path, engine, lines)
    cut = sum(len(line.encode()) for line in lines[:35]) + 200  # 200 bytes into record 36: a writer mid-append
    path.write_bytes(path.read_bytes()[:cut])
    report = feeds.update()
    assert counts(report) == (0, 0, 25, 35)
    ((where, line, reason),) = skipped(report)
    assert (where, line) == (str(path), 36) and reason.startswith("invalid JSON")
    write_lines(path, lines[:40])  # the write completed, and four more
    report = feeds.update()
    assert counts(report) == (5, 0, 0, 35) and not report.skipped


def test_a_gzipped_feed_dump_grows(tmp_path: Path, engine: str) -> None:
    feeds = Feeds(tmp_path, engine)
    path = feeds.folders[0] / "wire.jsonl.gz"
    lines = take(30)
    path.write_bytes(gzip.compress("".join(lines[:20]).encode()))
    feeds.build()
    path.write_bytes(gzip.compress("".join(lines).encode()))
    assert counts(feeds.update()) == (10, 0, 0, 20)


def test_rewritten_in_the_middle(tmp_path: Path, engine: str) -> None:
    lines, others = take(60), take(6, start=200)
    feeds, path = wire_feed(tmp_path, engine, lines)
    # records 21-25 replaced by five others, one more inserted before record 31
    write_lines(path, lines[:20] + others[:5] + lines[25:30] + [others[5]] + lines[30:])
    report = feeds.update()
    assert counts(report) == (6, 30, 5, 25)  # records 31-60 moved one line down
    assert any("30 of the updated articles only moved to another line" in note for note in report.notes)


def test_ids_moving_between_files(tmp_path: Path, engine: str) -> None:
    feeds = Feeds(tmp_path, engine)
    first, second = feeds.folders[0] / "a.jsonl", feeds.folders[0] / "b.jsonl"
    a, b = take(20), take(20, start=20)
    write_lines(first, a)
    write_lines(second, b)
    feeds.build()
    write_lines(first, a[:-1] + b[-1:])  # the last records of the two files swap files
    write_lines(second, b[:-1] + a[-1:])
    report = feeds.update()
    assert counts(report) == (0, 2, 0, 38)
    for line, now_in in ((a[-1], second), (b[-1], first)):
        moved = record(line)
        with Searcher(feeds.index) as searcher:
            hits = searcher.search(moved["headline"], limit=5).hits
        assert {h.id: h.location for h in hits}[moved["id"]] == f"{now_in}:20"


def test_duplicate_ids_go_to_the_first_file_in_corpus_order(tmp_path: Path, engine: str) -> None:
    """Files are read in the corpus's order (a folder's own files before its subfolders'); the first file
    yielding an id keeps it, as in a full build, whichever files changed."""
    feeds = Feeds(tmp_path, engine)
    folder = feeds.folders[0]
    (folder / "sub").mkdir()
    x = {"id": "story-x", "headline": "Zqharbour storm closes the port", "body": "Ships stayed at anchor."}
    later_x = {**x, "body": "A later version: ships left at dawn."}
    other = {"id": "story-y", "headline": "Council votes on the budget", "body": "The vote was close."}

    def put(name: str, *records: dict) -> None:
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    put("a.jsonl", x)
    put("b.jsonl", other)
    put("c.jsonl", later_x)
    report = feeds.build()
    assert [s.reason for s in report.skipped] == [f"duplicate id 'story-x' (first read from {folder / 'a.jsonl'})"]

    put("a.jsonl", {"id": "story-z", "headline": "Zqharbour reopens", "body": "Trade resumed."})
    report = feeds.update()  # a gave story-x up: c's, reported as a duplicate until now, is indexed
    assert counts(report) == (1, 1, 0, 1) and not report.skipped
    assert top_hit(feeds.index, "ships left at dawn")[0] == "story-x"

    put("b.jsonl", other, x)  # b, before c, now yields it too: b's wins, c reports a duplicate of b's
    report = feeds.update()
    assert counts(report) == (0, 1, 0, 2)
    assert [s.reason for s in report.skipped] == [f"duplicate id 'story-x' (first read from {folder / 'b.jsonl'})"]

    put("sub/d.jsonl", {**x, "body": "From the subfolder."})  # read after every file of the folder itself
    put("z.jsonl", {**x, "body": "From z."})
    report = feeds.update()
    assert counts(report) == (0, 0, 0, 3) and len(report.skipped) == 3

    put("b.jsonl", other, x, x)  # the same id twice in one file
    report = feeds.update()
    assert counts(report) == (0, 0, 0, 3)
    assert f"duplicate id 'story-x' in this file" in [s.reason for s in report.skipped if s.line == 3]

    put("b.jsonl", other)  # b and c give it up: z, a file of the folder itself, comes before sub/d.jsonl
    put("c.jsonl", {"id": "story-w", "headline": "Ferry timetable changes", "body": "From Monday."})
    report = feeds.update()
    assert counts(report) == (1, 1, 0, 2)
    assert top_hit(feeds.index, "zqharbour storm")[1] == f"{folder / 'z.jsonl'}:1"
    assert [s.reason for s in report.skipped] == [f"duplicate id 'story-x' (first read from {folder / 'z.jsonl'})"]


def test_broken_records_are_reported_by_path_line_and_reason(tmp_path: Path, engine: str) -> None:
    lines = take(10)
    feeds, path = wire_feed(tmp_path, engine, lines)
    broken = '{"id": "broken-1", "headline": "Cut off'
    write_lines(path, lines + [broken + "\n", '{"id": "empty-1", "headline": " "}\n'] + take(2, start=10))
    report = feeds.update()
    assert counts(report) == (2, 0, 0, 10)
    (broken_at, broken_why), (empty_at, empty_why) = ((s[:2], s[2]) for s in skipped(report))
    assert broken_at == (str(path), 11) and broken_why.startswith("invalid JSON: ")
    assert (empty_at, empty_why) == ((str(path), 12), "no text (empty or whitespace only)")
    code, _, err = cli("update", str(feeds.folders[0]), "--index", str(feeds.index))
    assert code == 1 and f"{path}:11: invalid JSON" in err and f"{path}:12: no text" in err
    write_lines(path, lines + [broken + '", "body": "Now complete."}\n', "\n"] + take(2, start=10))
    report = feeds.update()
    assert counts(report) == (1, 0, 0, 12) and not report.skipped


def test_several_corpus_folders(tmp_path: Path, engine: str) -> None:
    feeds = Feeds(tmp_path, engine, folders=("north", "south"))
    north, south = (folder / "feed.jsonl" for folder in feeds.folders)
    anonymous = [json.dumps({k: v for k, v in record(line).items() if k != "id"}) + "\n" for line in take(16)]
    write_lines(north, anonymous[:6])
    write_lines(south, anonymous[6:12])
    feeds.build()
    write_lines(south, anonymous[6:12] + anonymous[12:])
    lines = anonymous[:6]
    lines[2] = with_words(lines[2], "The zqnorthern edition corrected this.")
    write_lines(north, lines)
    report = feeds.update()
    assert counts(report) == (4, 1, 0, 11)
    assert top_hit(feeds.index, "zqnorthern")[0] == "north/feed.jsonl:3"
    assert top_hit(feeds.index, record(anonymous[15])["headline"])[0] == "south/feed.jsonl:10"


def rss(items: list[tuple[str, str, str]]) -> str:
    entries = "".join(f"<item><guid>{guid}</guid><title>{escape(title)}</title><description>{escape(text)}</description></item>"
                      for guid, title, text in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{entries}</channel></rss>'


def test_feed_items_and_reuters_documents(tmp_path: Path, engine: str) -> None:
    feeds = Feeds(tmp_path, engine)
    feed, sgml = feeds.folders[0] / "wire.rss", feeds.folders[0] / "reut2-000.sgm"
    items = [(f"wire-{n}", record(line)["headline"], record(line)["description"]) for n, line in enumerate(take(8))]
    feed.write_text(rss(items[:6]), encoding="utf-8")
    text = REUTERS.read_bytes().decode("latin-1")
    sgml.write_text(text, encoding="latin-1")
    built = feeds.build()
    documents = built.indexed - 6
    feed.write_text(rss([items[6]] + items[:6] + [items[7]]), encoding="utf-8")  # items carry no line: order is free
    report = feeds.update()
    assert counts(report) == (2, 0, 0, built.indexed)
    old = "Showers continued throughout the week in\nthe Bahia cocoa zone"
    assert old in text
    sgml.write_text(text.replace(old, "Zqdownpours continued throughout the week in\nthe Bahia cocoa zone", 1),
                    encoding="latin-1")
    report = feeds.update()
    assert counts(report) == (0, 1, 0, documents + 7)
    assert top_hit(feeds.index, "zqdownpours")[0] == "reut2-000.sgm#1"


def test_a_version_1_manifest_falls_back_to_whole_files(tmp_path: Path, engine: str) -> None:
    lines = take(30)
    feeds, path = wire_feed(tmp_path, engine, lines[:20])
    manifest_path = IndexStore(feeds.index).current().path / MANIFEST
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    for entry in data["files"].values():
        del entry["hashes"]
    manifest_path.write_text(json.dumps({**data, "version": 1}), encoding="utf-8")
    write_lines(path, lines[:25])
    report = feeds.update()  # no hashes to compare: the changed file is re-indexed whole
    assert counts(report) == (5, 20, 0, 0)
    write_lines(path, lines)
    report = feeds.update()  # the new generation's manifest has them
    assert counts(report) == (5, 0, 0, 25)


@pytest.mark.parametrize("point", ["file-indexed:1", "deleted:1", "before-commit:1", "checked:1"])
def test_a_killed_record_update_leaves_the_old_generation_serving(tmp_path: Path, point: str) -> None:
    lines = take(30)
    feeds, path = wire_feed(tmp_path, "whoosh", lines[:20])
    serving = IndexStore(feeds.index).current_name()
    lines[3] = with_words(lines[3], "Zqrevised figures.")
    write_lines(path, lines[:19] + lines[20:])
    killed_at(point, lambda: update_index(feeds.folders, feeds.index))
    assert IndexStore(feeds.index).current_name() == serving
    with Searcher(feeds.index) as searcher:
        assert searcher.search("zqrevised").total == 0 and searcher.serving().articles == 20
    report = feeds.update()
    assert counts(report) == (10, 1, 1, 18)
