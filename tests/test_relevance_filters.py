"""--since/--until/--category/--source and --sort on the Daily Mail corpus (dates and categories
come from its JSONL records). One part file (969 articles of 30 Sept and 1 Oct 2020) keeps it quick."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer import build_index
from indexer.config import Config
from query.cli import main as search_cli
from query import Searcher

from conftest import DAILYMAIL


@pytest.fixture(scope="module")
def dailymail_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = tmp_path_factory.mktemp("dailymail-part")
    shutil.copy(DAILYMAIL / "part-007.jsonl", corpus / "part-007.jsonl")
    index_dir = tmp_path_factory.mktemp("dailymail-index")
    build_index([corpus], index_dir, Config(index_dir=index_dir))
    return index_dir


@pytest.fixture(scope="module")
def searcher(dailymail_index: Path) -> Searcher:
    with Searcher(dailymail_index) as handle:
        yield handle


def test_date_range_returns_only_articles_inside_it(searcher: Searcher) -> None:
    everything = searcher.search("coronavirus", limit=1000)
    inside = searcher.search("coronavirus", limit=1000, since="2020-10-01", until="2020-10-01")
    assert 0 < inside.total < everything.total
    assert all(hit.date.startswith("2020-10-01") for hit in inside.hits)
    assert inside.total == sum(1 for hit in everything.hits if hit.date.startswith("2020-10-01"))
    before = searcher.search("coronavirus", limit=1000, until="2020-09-30")
    assert before.total == everything.total - inside.total


def test_month_and_year_dates_cover_the_whole_period(searcher: Searcher) -> None:
    september = searcher.search("coronavirus", limit=1000, since="2020-09", until="2020-09")
    assert september.total and all(hit.date.startswith("2020-09") for hit in september.hits)
    assert searcher.search("coronavirus", limit=1000, until="2019").total == 0


def test_sort_by_date_is_newest_first(searcher: Searcher) -> None:
    hits = searcher.search("coronavirus lockdown", limit=50, sort="date").hits
    dates = [hit.date for hit in hits]
    assert len(dates) == 50 and dates == sorted(dates, reverse=True)
    by_relevance = searcher.search("coronavirus lockdown", limit=1000)  # all-word articles first, then partial
    newest = max(h.date for h in by_relevance.hits[:by_relevance.all_words])
    assert dates[0] == newest


def test_category_filter(searcher: Searcher) -> None:
    results = searcher.search("coronavirus", limit=1000, category="Sports")
    assert results.total and all("sports" in hit.categories for hit in results.hits)
    assert results.total < searcher.search("coronavirus", limit=1000).total


def test_source_filter(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = [{"id": "a", "headline": "Storm hits coast", "source": "BBC"},
               {"id": "b", "headline": "Storm warning issued", "source": "Reuters"}]
    (corpus / "news.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    build_index([corpus], tmp_path / "index", Config(index_dir=tmp_path / "index"))
    with Searcher(tmp_path / "index") as searcher:
        assert [h.id for h in searcher.search("storm", source="reuters").hits] == ["b"]
        assert [h.id for h in searcher.search("storm", source="BBC").hits] == ["a"]


def test_filters_on_the_command_line(dailymail_index: Path) -> None:
    outcome = CliRunner().invoke(search_cli, [
        "--index", str(dailymail_index), "--json", "-n", "20", "--since", "2020-10-01", "--category", "tv",
        "--sort", "date", "coronavirus",
    ])
    data = json.loads(outcome.output)
    dates = [hit["date"] for hit in data["hits"]]
    assert dates and dates == sorted(dates, reverse=True) and min(dates) >= "2020-10-01"
    assert all("tv" in hit["categories"] for hit in data["hits"])


@pytest.mark.parametrize("option", [["--since", "yesterday"], ["--until", "2020-13-01"],
                                    ["--since", "2020-10-02", "--until", "2020-10-01"]])
def test_bad_dates_are_usage_errors(dailymail_index: Path, option: list[str]) -> None:
    outcome = CliRunner().invoke(search_cli, ["--index", str(dailymail_index), *option, "coronavirus"])
    assert outcome.exit_code == 2
    assert "search: bad option:" in outcome.output
