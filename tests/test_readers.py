"""Readers turn each format into Articles; broken input is reported, not fatal."""
from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import BBC, BUNDLED_CORPUS, CORPORA, DAILYMAIL

from indexer.models import Article, Notice, Skipped
from indexer.readers import _SPACES_RE, CorpusFile, clean, find_files, read_file

CAP = 10 * 1024 * 1024


def read_all(*roots: Path, notices: list[Notice] | None = None) -> tuple[list[Article], list[Skipped]]:
    """Articles and skipped items of the corpus folders; notices go to `notices` when given."""
    files, skipped = find_files(roots)
    articles: list[Article] = []
    for file in files:
        for item in read_file(file, CAP):
            if isinstance(item, Notice):
                (notices if notices is not None else []).append(item)
            else:
                (articles if isinstance(item, Article) else skipped).append(item)
    return articles, skipped


def read_one(path: Path) -> Article:
    stat = path.stat()
    (item,) = list(read_file(CorpusFile(path, path.parent, stat.st_size, stat.st_mtime_ns), CAP))
    assert isinstance(item, Article), item
    return item


def test_founding_article_sections() -> None:
    article = read_one(BUNDLED_CORPUS / "founding-article.txt")
    assert article.headline.startswith("Child ISIS fighter with a gun slung over his shoulder")
    assert article.bullets == (
        "Cheery boy is one of 30 women and child militants to surrender to Afghan forces",
        "Taliban has claimed responsibility for 'turning point' in fight to end extremism",
        "Move comes after weeks of intense battle between ISIS and army in Jowzjan",
    )
    assert len(article.captions) == 4 and len(set(article.captions)) == 4
    assert any("checkpoints in the city of Jalalabad" in c for c in article.captions)
    assert not set(article.captions) & set(article.body), "a caption must not stay in the body"
    assert article.body[0].startswith("With a deadly weapon tucked under his arm")
    assert "\u00a0" not in " ".join(article.body), "no-break spaces are normalised"


def test_word_lists_beside_a_corpus_are_skipped_with_a_reason() -> None:
    """Reuters-21578 ships its topic, place and name lists as .txt files of one word a line: not articles.
    Its notes on the categories and its CIA factbook data are prose, and stay articles."""
    files, _ = find_files([CORPORA / "reuters21578"])
    read = {f.path.name: list(read_file(f, CAP)) for f in files if f.path.suffix == ".txt"}
    lists = {name for name, items in read.items() if [type(i) for i in items] == [Skipped]}
    assert lists == {f"all-{kind}-strings.lc.txt" for kind in ("exchanges", "orgs", "people", "places", "topics")}
    assert read["all-topics-strings.lc.txt"][0].reason == "a word list (135 lines of one word each), not an article"
    assert {name: [type(i) for i in read[name]] for name in read.keys() - lists} == {
        "cat-descriptions_120396.txt": [Article], "feldman-cia-worldfactbook-data.txt": [Article]}


def test_every_bbc_file_parses() -> None:
    articles, skipped = read_all(BBC)
    assert skipped == []
    assert len(articles) == 2225  # README.TXT and SOURCE.md describe the corpus: not articles
    by_id = {a.id: a for a in articles}
    assert by_id["business/001.txt"].headline == "Ad sales boost Time Warner profit"
    assert by_id["entertainment/199.txt"].headline == "£1.8m indecency fine for Viacom"  # &#163; decoded
    assert "£" in " ".join(by_id["sport/199.txt"].body)  # a Latin-1 file read correctly


def test_daily_mail_jsonl_parses() -> None:
    notices: list[Notice] = []
    articles, skipped = read_all(DAILYMAIL, notices=notices)
    assert skipped == []
    assert len(notices) == 8 and all(n.message.startswith("fields not used: image_url (") for n in notices)
    assert all("source_path" in n.message and "source_rev" in n.message for n in notices)
    assert len(articles) == 24308
    first = articles[0]
    assert first.id.startswith("finescoop-") and first.date and first.line == 1
    assert first.bullets, "the description stands in for missing highlights"
    assert first.categories == ("coronavirus",)
    iso = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2})?)?")
    assert all(a.date and iso.fullmatch(a.date) for a in articles), "every record's date is read as ISO 8601"


def test_markdown_with_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "story.md"
    path.write_text(
        "---\ndate: 2024-05-01\nsource: Wire\ncategories: [world, politics]\n---\n"
        "# Floods close the *Rhine* to barges\n\n- Water at record level\n- Ports shut\n\n"
        "Barges stopped on Monday. Shippers wait.\n\n![Barges moored at Cologne](x.jpg \"Cologne harbour\")\n\n"
        "- a later list item is body text\n",
        encoding="utf-8",
    )
    article = read_one(path)
    assert article.headline == "Floods close the Rhine to barges"
    assert article.bullets == ("Water at record level", "Ports shut")
    assert article.body == ("Barges stopped on Monday. Shippers wait.", "a later list item is body text")
    assert article.captions == ("Barges moored at Cologne", "Cologne harbour")
    assert (article.date, article.source, article.categories) == ("2024-05-01", "Wire", ("world", "politics"))


def test_story_format(tmp_path: Path) -> None:
    path = tmp_path / "cnn.story"
    path.write_text("First paragraph of the story.\n\nSecond one.\n\n@highlight\n\nMain point\n\n@highlight\n\nOther point\n")
    article = read_one(path)
    assert article.headline == "Main point"
    assert article.bullets == ("Other point",)
    assert article.body == ("First paragraph of the story.", "Second one.")


def test_broken_jsonl_lines_are_reported_and_the_rest_read(tmp_path: Path) -> None:
    good = {"id": "a1", "headline": "Good one", "body": "Text here.\n\nMore text."}
    (tmp_path / "feed.jsonl").write_text(
        json.dumps(good) + "\n{not json\n" + json.dumps({"headline": 5, "body": {"x": 1}}) + "\n"
        + json.dumps({"id": "a2", "headline": "Other", "highlights": ["One", "Two"], "body": "B."}) + "\n"
        + '{"headline": "Tab\tinside"}\n'
    )
    articles, skipped = read_all(tmp_path)
    assert [a.id for a in articles] == ["a1", "a2"]
    assert skipped[2].reason == "invalid JSON: Invalid control character at column 18"
    assert articles[0].body == ("Text here.", "More text.")
    assert articles[1].bullets == ("One", "Two")
    assert [s.line for s in skipped] == [2, 3, 5]
    assert "invalid JSON" in skipped[0].reason and "body must be a string" in skipped[1].reason


def test_a_pipe_and_a_path_too_long_for_the_system_are_reported_and_the_rest_indexed(tmp_path: Path) -> None:
    """A FIFO named like an article would block a reader forever; a folder chain deeper than
    PATH_MAX cannot be opened by path. Each is reported by path and reason, the good article read."""
    import os

    (tmp_path / "good.txt").write_text("A headline\n\nThe body of a good article.\n", encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.txt")
    folder = os.open(tmp_path, os.O_RDONLY)
    try:
        for _ in range(20):  # 20 x 250 characters: past Linux's 4,096
            os.mkdir("d" * 250, dir_fd=folder)
            inner = os.open("d" * 250, os.O_RDONLY, dir_fd=folder)
            os.close(folder)
            folder = inner
        with open(os.open("deep.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=folder), "w") as deep:
            deep.write("Deep\n\nToo deep to open by path.\n")
    finally:
        os.close(folder)
    articles, skipped = read_all(tmp_path)
    assert [a.id for a in articles] == ["good.txt"]
    reasons = {Path(s.path).name[:10]: s.reason for s in skipped}
    assert "not a regular file" in reasons["pipe.txt"]
    assert any("too long" in reason.lower() for reason in reasons.values()), skipped


def test_every_character_cleaned_away_is_unprintable() -> None:
    """`clean` skips its regex for printable text without a double space: that is only right while
    every character the regex turns into a space is one `str.isprintable` refuses."""
    odd = [chr(code) for code in range(0x110000) if _SPACES_RE.fullmatch(chr(code))]
    assert len(odd) > 100 and not [c for c in odd if c.isprintable()]
    for text in ("a\u00a0b", "a  b", " a\tb ", "a\u2028b", "plain text", "caf\u00e9 \u201cquoted\u201d"):
        assert clean(text) == _SPACES_RE.sub(" ", text).strip()
