"""JSONL and JSON feeds under the field names real feeds use, and dates compared as dates (the real Daily Mail
feed is read in test_readers.py)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_readers import read_all

from indexer import build_index
from indexer.config import Config
from indexer.models import Notice
from query import Searcher


def feed(folder: Path, name: str, *records: dict, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding=encoding)
    return path


def test_common_field_names_are_understood(tmp_path: Path) -> None:
    feed(tmp_path, "wire.jsonl",
         {"guid": "a", "title": "Rates held", "summary": "The bank waited.", "content": "<p>First.</p><p>Second &amp; last.</p>",
          "pubDate": "Thu, 03 Sep 2020 10:00:00 GMT", "section": "Business", "link": "https://x.org/a", "publisher": "Wire"},
         {"id": "b", "headline": "Storm nears", "short_description": "Winds rise.", "abstract": "Winds rise.", "text": "Body.",
          "published_at": 1599059897, "keywords": "weather, coast", "url": "https://x.org/b", "source": {"name": "Gazette"}},
         {"id": "c", "Headline": "Vote counted", "deck": "A close race.", "article": ["Para one.", "Para two."],
          "datePublished": "2020-09-04", "tags": ["politics"], "category": "Elections"})
    notices: list[Notice] = []
    articles, skipped = read_all(tmp_path, notices=notices)
    assert not skipped
    first, second, third = articles
    assert (first.headline, first.bullets, first.body) == ("Rates held", ("The bank waited.",), ("First.", "Second & last."))
    assert (first.date, first.categories, first.url, first.source) == ("2020-09-03T10:00:00+00:00", ("Business",), "https://x.org/a", "Wire")
    assert (second.id, second.bullets, second.date, second.categories, second.source) == (
        "b", ("Winds rise.",), "2020-09-02T15:18:17+00:00", ("weather", "coast"), "Gazette")
    assert (third.headline, third.body, third.date, third.categories) == ("Vote counted", ("Para one.", "Para two."), "2020-09-04", ("Elections", "politics"))
    assert [n.message for n in notices] == ["fields not used: guid (1)"]


def test_unused_fields_and_bad_dates_are_noted_once_per_file_by_a_build(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    feed(corpus, "feed.jsonl", *({"id": f"r{i}", "headline": f"Story {i}", "body": "Text.", "image_url": "x.jpg",
                                  "date": "someday" if i == 2 else "2020-01-01"} for i in range(5)))
    report = build_index([corpus], tmp_path / "index", Config(index_dir=tmp_path / "index"))
    assert report.indexed == 5 and not report.skipped
    notes = [n for n in report.notes if "feed.jsonl" in n]
    assert notes == [f"{corpus / 'feed.jsonl'}: fields not used: image_url (5)",
                     f"{corpus / 'feed.jsonl'}: 1 date(s) not understood, indexed undated (first: line 3: 'someday')"]


@pytest.mark.parametrize("engine", ["whoosh", "tantivy"])
def test_sort_and_filters_compare_real_dates(tmp_path: Path, engine: str) -> None:
    pytest.importorskip(engine)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    feed(corpus, "feed.jsonl",
         {"id": "written", "headline": "Harbour news one", "date": "Sep 3, 2020"},
         {"id": "iso", "headline": "Harbour news two", "date": "2020-09-02T16:21:38"},
         {"id": "rfc", "headline": "Harbour news three", "date": "Fri, 04 Sep 2020 08:00:00 +0100"},
         {"id": "old", "headline": "Harbour news four", "date": "12 January 2019"})
    index = tmp_path / "index"
    build_index([corpus], index, Config(index_dir=index, engine=engine))
    with Searcher(index) as searcher:
        assert [h.id for h in searcher.search("harbour", sort="date").hits] == ["rfc", "written", "iso", "old"]
        assert [h.id for h in searcher.search("harbour", sort="date", since="2020-09-03").hits] == ["rfc", "written"]
        assert [h.id for h in searcher.search("harbour", until="2019").hits] == ["old"]


def test_utf16_jsonl_is_decoded(tmp_path: Path) -> None:
    feed(tmp_path, "bom.jsonl", {"id": "u1", "headline": "Sixteen bits with a BOM", "body": "Ça va."}, encoding="utf-16")
    feed(tmp_path, "le.jsonl", {"id": "u2", "headline": "Little endian, no BOM", "body": "Naïve."}, encoding="utf-16-le")
    articles, skipped = read_all(tmp_path)
    assert not skipped
    assert sorted((a.id, a.headline, a.body) for a in articles) == [
        ("u1", "Sixteen bits with a BOM", ("Ça va.",)), ("u2", "Little endian, no BOM", ("Naïve.",))]


def test_json_feeds_whole_files(tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text(json.dumps([{"title": "One", "body": "A."}, {"title": "Two", "body": "B."}, "junk"]))
    (tmp_path / "wrapped.json").write_text(json.dumps({"feed": "x", "items": [{"id": "w1", "title": "Three", "content": "C."}]}))
    (tmp_path / "single.json").write_text(json.dumps({"id": "s1", "headline": "Four", "body": "D."}))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "package.json").write_text(json.dumps({"name": "site", "description": "A blog", "keywords": ["x"]}))
    articles, skipped = read_all(tmp_path)
    assert sorted(a.headline for a in articles) == ["Four", "One", "Three", "Two"]
    assert {a.id for a in articles} >= {"list.json#1", "list.json#2", "w1", "s1"}
    assert sorted((Path(s.path).name, s.reason.split(":")[0]) for s in skipped) == [
        ("broken.json", "invalid JSON"), ("list.json", "record 3"), ("package.json", "record 1")]
    assert "not an article" in next(s.reason for s in skipped if s.path.endswith("package.json"))


def test_cr_only_line_ends_split_paragraphs(tmp_path: Path) -> None:
    feed(tmp_path, "cr.jsonl", {"id": "cr", "headline": "Old Mac text", "body": "First paragraph.\r\rSecond paragraph."})
    (tmp_path / "mac.story").write_bytes(b"Story one.\r\rStory two.\r\r@highlight\r\rPoint\r")
    articles, _ = read_all(tmp_path)
    assert {a.id: a.body for a in articles} == {"cr": ("First paragraph.", "Second paragraph."), "mac.story": ("Story one.", "Story two.")}


def test_right_to_left_overrides_never_reach_a_headline(tmp_path: Path) -> None:
    feed(tmp_path, "rlo.jsonl", {"id": "r", "headline": "Invoice \u202egpj.exe\u202c paid", "body": "Isolate \u2066x\u2069 too."})
    (article,), _ = read_all(tmp_path)
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", article.headline + " ".join(article.body))
    assert article.headline == "Invoice gpj.exe paid"

