"""Several corpus folders in one index: every article kept, ids unique across folders and the same on every run."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import BBC, BUNDLED_CORPUS, CORPORA, DAILYMAIL
from nightly_support import CATEGORIES, cli, make_corpus, serving_count

from indexer.generations import IndexStore
from indexer.manifest import Manifest
from indexer.readers import folder_labels
from query import Searcher

POSTS_18F = CORPORA / "markdown_18f" / "posts"


def ids_by_file(index: Path) -> dict[str, tuple[str, ...]]:
    """The ids each corpus file gave the serving generation."""
    manifest = Manifest.load(IndexStore(index).current().path)
    assert manifest is not None
    return {path: entry.ids for path, entry in manifest.files.items()}


def top_id(index: Path, query: str) -> str:
    with Searcher(index) as searcher:
        return searcher.search(query, limit=1).hits[0].id


def test_the_bundled_corpus_and_five_bbc_folders_index_every_article_and_update_changes_nothing(tmp_path: Path) -> None:
    """The user's command from the issue: 512 of 2,226 articles were indexed, 1,714 skipped as duplicates."""
    index = tmp_path / "index"
    folders = [str(BUNDLED_CORPUS), *(str(BBC / c) for c in CATEGORIES)]
    code, out, err = cli("build", *folders, "--index", str(index), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["indexed"] == 2226 and report["skipped"] == [] and "duplicate" not in err
    ids = [i for file_ids in ids_by_file(index).values() for i in file_ids]
    assert len(ids) == len(set(ids)) == 2226
    assert ids_by_file(index)[str(BBC / "entertainment" / "001.txt")] == ("entertainment/001.txt",)
    assert top_id(index, "Ad sales boost Time Warner profit") == "business/001.txt"  # as in a BBC-only index
    assert top_id(index, "Jalalabad checkpoints") == "corpus/founding-article.txt"
    generation = IndexStore(index).current_name()
    for given in (folders, []):  # the same folders again, then those the index records
        code, out, err = cli("update", *given, "--index", str(index), "--json")
        report = json.loads(out)
        assert code == 0 and (report["added"], report["updated"], report["removed"], report["unchanged"]) == (0, 0, 0, 2226)
        assert "nothing changed" in err and IndexStore(index).current_name() == generation


def test_two_folders_of_the_same_name_are_told_apart_by_their_parents(tmp_path: Path) -> None:
    """A site's posts and a mirror of some of them: both named posts/, with the same file names."""
    mirror = tmp_path / "mirror" / "posts"
    mirror.mkdir(parents=True)
    copied = sorted(POSTS_18F.glob("*.md"))[:30]
    for post in copied:
        shutil.copyfile(post, mirror / post.name)
    index = tmp_path / "index"
    site = json.loads(cli("build", str(POSTS_18F), "--index", str(tmp_path / "site-only"), "--json")[1])
    code, out, err = cli("build", str(POSTS_18F), str(mirror), "--index", str(index), "--json")
    report = json.loads(out)
    assert report["indexed"] == site["indexed"] + 30 and "duplicate" not in err
    by_file = ids_by_file(index)
    name = copied[0].name
    assert by_file[str(POSTS_18F / name)] == (f"markdown_18f/posts/{name}",)
    assert by_file[str(mirror / name)] == (f"mirror/posts/{name}",)


def test_adding_a_folder_renames_the_ids_and_the_update_matches_a_rebuild(tmp_path: Path) -> None:
    corpus, extra = make_corpus(tmp_path / "corpus"), make_corpus(tmp_path / "extra", per_category=4)
    index, reference = tmp_path / "index", tmp_path / "reference"
    assert cli("build", str(corpus), "--index", str(index))[0] == 0
    assert ids_by_file(index)[str(corpus / "tech" / "001.txt")] == ("tech/001.txt",)
    code, out, err = cli("update", str(corpus), str(extra), "--index", str(index), "--json")
    assert code == 0, err
    assert json.loads(out)["indexed"] == 140 and serving_count(index) == 140
    assert cli("build", str(corpus), str(extra), "--index", str(reference))[0] == 0
    assert ids_by_file(index) == ids_by_file(reference)
    assert ids_by_file(index)[str(extra / "tech" / "001.txt")] == ("extra/tech/001.txt",)
    with Searcher(index) as updated:
        found = updated.search("Ad sales boost Time Warner profit", limit=5)
        assert found.all_words == 2 and {h.id for h in found.hits[:2]} == {
            "corpus/business/001.txt", "extra/business/001.txt"}
    code, out, _ = cli("update", str(corpus), "--index", str(index), "--json")  # the folder goes again
    assert code == 0 and json.loads(out)["indexed"] == 120
    assert ids_by_file(index)[str(corpus / "tech" / "001.txt")] == ("tech/001.txt",)


def test_many_duplicate_ids_are_summed_up_in_one_line(tmp_path: Path) -> None:
    """A feed and its backup copy: the same record ids in two folders (records name their own ids)."""
    feeds = [tmp_path / "feed", tmp_path / "backup"]
    records = (DAILYMAIL / "part-000.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[:300]
    for folder in feeds:
        folder.mkdir()
        (folder / "part-000.jsonl").write_text("".join(records), encoding="utf-8")
    code, out, err = cli("build", *map(str, feeds), "--index", str(tmp_path / "index"), "--json")
    report = json.loads(out)
    duplicates = [s for s in report["skipped"] if s["reason"].startswith("duplicate id")]
    assert code == 1 and len(duplicates) == report["indexed"] == 300
    lines = err.splitlines()
    assert sum(line.startswith("skipped ") and "duplicate id" in line for line in lines) == 5
    assert f"... and {len(duplicates) - 5:,} more (duplicate id …; --json lists them all)" in lines


@pytest.mark.parametrize("folders, labels", [
    (["/srv/bbc/business", "/srv/bbc/sport"], ["business", "sport"]),
    (["/srv/a/posts", "/srv/b/posts", "/srv/news"], ["a/posts", "b/posts", "news"]),
    (["/srv/x/posts", "/srv/y/a/posts"], ["x/posts", "a/posts"]),
    (["/srv/a/posts", "/srv/x/srv/a/posts"], ["srv/a/posts", "x/srv/a/posts"]),
    # "news" would start "news/sports": news/sports/1.txt in the first folder would meet 1.txt of the second
    (["/r/news", "/s/news/sports", "/t/sports"], ["r/news", "news/sports", "t/sports"]),
    (["/srv/archive"], [""]),
])
def test_folder_labels(folders: list[str], labels: list[str]) -> None:
    found = folder_labels([Path(f) for f in folders])
    assert [found[Path(f)] for f in folders] == labels
