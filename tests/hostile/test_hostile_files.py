"""Hostile corpus files: each bad one is reported with its path and reason and skipped, the rest indexed.

One corpus folder holds every case next to good articles; it is built once through the
`search-index build` command (exit code 1: something was skipped) and then searched.
"""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any, Callable

import pytest
from hostile_helpers import article, build_report, hit_ids, run_build, run_search

MB = 1024 * 1024

Writer = Callable[[Path], None]


def text(name: str, content: str, encoding: str = "utf-8") -> Writer:
    return lambda root: (root / name).write_text(content, encoding=encoding)


def raw(name: str, content: bytes) -> Writer:
    return lambda root: (root / name).write_bytes(content)


def sparse(name: str, head: bytes, size: int, tail: bytes = b"") -> Writer:
    """A big file written cheaply: `head`, a hole up to `size`, then `tail`."""
    def write(root: Path) -> None:
        with open(root / name, "wb") as stream:
            stream.write(head)
            stream.seek(size)
            stream.write(tail)
    return write


def jsonl(name: str, *lines: str) -> Writer:
    return lambda root: (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def record(**fields: Any) -> str:
    return json.dumps(fields)


def symlink(name: str, target: str) -> Writer:
    return lambda root: os.symlink(target, root / name)


def folder_named(name: str, inner: str, content: str) -> Writer:
    def write(root: Path) -> None:
        (root / name).mkdir()
        (root / name / inner).write_text(content, encoding="utf-8")
    return write


def bytes_name(name: bytes, content: str) -> Writer:
    def write(root: Path) -> None:
        with open(os.fsencode(root) + b"/" + name, "w", encoding="utf-8") as stream:
            stream.write(content)
    return write


def bullets(count: int) -> str:
    return "Bullets without end\n" + "".join(f"- bullet line {i}\n" for i in range(count)) + "\nBody of the bulletin.\n"


# (case, writer, reported path, reason fragment) for files that must be skipped.
BAD: list[tuple[str, Writer, str, str]] = [
    ("empty file", text("empty.txt", ""), "empty.txt", "no text"),
    ("whitespace only", text("blank.md", " \n\t\n\u00a0 \n"), "blank.md", "no text"),
    ("PNG renamed .txt", raw("picture.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))), "picture.txt", "binary file"),
    ("NUL bytes", raw("nul.txt", b"Headline\n\nbody\x00with a NUL\n"), "nul.txt", "binary file"),
    ("50 MB one-line file", sparse("huge.txt", b"x" * 1024, 50 * MB, b"x\n"), "huge.txt", "over the 10,485,760-byte article size cap"),
    # skipped by its size before it is hashed or read: hashing alone would read 100 GB of zeros
    ("100 GB sparse file", sparse("sparse.txt", b"x" * 1024, 100 * 1024 * MB, b"x\n"), "sparse.txt", "over the 10,485,760-byte article size cap"),
    ("Markdown lists nested 10,000 deep", text("lists.md", "# Deep lists\n\n" + "- " * 10_000 + "leaf\n"), "lists.md", "nested too deeply"),
    ("Markdown quotes nested 10,000 deep", text("quotes.md", "# Deep quotes\n\n" + "> " * 10_000 + "leaf\n"), "quotes.md", "nested too deeply"),
    ("invalid YAML front matter", text("badyaml.md", "---\ntitle: [unclosed\n---\n# Fine headline\n\nBody.\n"), "badyaml.md", "invalid YAML front matter"),
    ("YAML constructing Python objects", text("evil.md", "---\ntitle: !!python/object/apply:os.system ['echo pwned > PWNED']\n---\n# H\n\nBody.\n"), "evil.md", "invalid YAML front matter"),
    ("YAML front matter not a mapping", text("list.md", "---\n- just\n- a list\n---\n# H\n\nBody.\n"), "list.md", "not a YAML mapping"),
    ("symlink loop", lambda r: (symlink("loop-a.txt", "loop-b.txt")(r), symlink("loop-b.txt", "loop-a.txt")(r)), "loop-a.txt", "symbolic link, not followed"),
    ("symlink outside the root", symlink("passwd.txt", "/etc/passwd"), "passwd.txt", "symbolic link, not followed"),
    ("symlinked folder (loop to ..)", symlink("up", ".."), "up", "symbolic link, not followed"),
    ("empty file named with a newline", text("empty\nname.txt", ""), "empty\nname.txt", "no text"),
]

JSONL_GOOD = record(id="feed-1", headline="Feed survives its broken neighbours", body="Marmalade exports rose.")
JSONL_LINES = [
    JSONL_GOOD,                                                     # 1 good
    "{not json",                                                    # 2 broken
    record(id="feed-3", headline=["a", "list"], body="x"),          # 3 wrong type
    record(id="feed-4", headline="h", body={"nested": "object"}),   # 4 wrong type
    "[1, 2, 3]",                                                    # 5 not an object
    record(id="feed-1", headline="Same id again", body="dup"),      # 6 duplicate id
    record(id="feed-7", headline="Empty body", body=""),            # 7 indexed: a headline is text
    "   ",                                                          # 8 blank: ignored
    record(id="feed-9", headline="Surrogates \ud800 and controls \u0000\u001b[31m", body="Quinoa harvest."),
    "[" * 100_000 + "]" * 100_000,                                  # 10 nested too deep for json
]
JSONL_SKIPS = {2: "invalid JSON", 3: "headline must be a string", 4: "body must be a string", 5: "not a JSON object",
               6: "duplicate id", 10: ""}

# (case, writer, word that must find the file's article, expected id)
GOOD: list[tuple[str, Writer, str, str]] = [
    ("good article", text("good.txt", article("Zebras cross the road", "A herd of zebras stopped traffic.")), "zebras", "good.txt"),
    ("invalid UTF-8 / mixed encodings", raw("mixed.txt", "Café owners protest\n\nUTF-8 café and ".encode() + b"cp1252 caf\xe9 \x93quoted\x94 \xff\n"), "cafe", "mixed.txt"),
    ("UTF-16 with BOM", text("utf16.txt", article("Sixteen bit headline", "Hovercraft sightings."), "utf-16"), "hovercraft", "utf16.txt"),
    ("UTF-16 odd length", raw("utf16odd.txt", b"\xff\xfe" + "Odd walrus\n\nWalrus text".encode("utf-16-le") + b"\x00"), "walrus", "utf16odd.txt"),
    ("decomposed accents (NFD) and a soft hyphen", text("nfd.txt", article("Decomposed", "A zo\u0308ologist and a gib\u00adbon.")), "zoologist gibbon", "nfd.txt"),
    ("UTF-8 BOM", raw("bom.txt", b"\xef\xbb\xbf" + article("Bom headline", "Ptarmigan nesting.").encode()), "ptarmigan", "bom.txt"),
    ("2 MB one-line file (under the cap)", text("oneline.txt", "filler " * 300_000 + "wombat\n"), "wombat", "oneline.txt"),
    ("100,000 bullet lines", text("bullets.txt", bullets(100_000)), "bulletin", "bullets.txt"),
    ("raw HTML and <script>", text("html.md", "# Raw markup\n\n<script>alert('xylophone')</script>\n\n<div>Visible <b>armadillo</b> &amp; more</div>\n\n"
                                   "Inline <b>bold</b> <script>evil('xylophone')</script> text.\n"), "armadillo", "html.md"),
    (".story without @highlight", text("plain.story", "Story without highlights about kumquats.\n\nSecond paragraph.\n"), "kumquats", "plain.story"),
    ("folder named x.txt", folder_named("folder.txt", "inside.txt", article("Inside a folder named like a file", "Narwhal.")), "narwhal", "folder.txt/inside.txt"),
    ("file name with spaces", text("with spaces.txt", article("Spaced name", "Okapi sighting.")), "okapi", "with spaces.txt"),
    ("file name with a newline", text("new\nline.txt", article("Newline name", "Pangolin sighting.")), "pangolin", "new\nline.txt"),
    ("file name with non-UTF-8 bytes", bytes_name(b"bad\xffname.txt", article("Bytes name", "Axolotl sighting.")), "axolotl", "bad\\xffname.txt"),
    ("JSONL good lines among bad ones", jsonl("feed.jsonl", *JSONL_LINES), "marmalade", "feed-1"),
    ("JSONL control chars and lone surrogates", lambda r: None, "quinoa", "feed-9"),
    ("JSONL id already used by another file", jsonl("second-feed.jsonl", record(id="feed-1", headline="Other"),
                                                    record(id="second-2", headline="Second feed", body="Gazelle.")), "gazelle", "second-2"),
    ("Markdown with 5 MB of [", text("brackets.md", "# Bracket run of the ibex\n\n" + "[" * (5 * MB) + "\n"), "ibex", "brackets.md"),
    ("Markdown with 5 MB of *a_", text("emphasis.md", "# Emphasis run of the gecko\n\n" + "*a_" * (5 * MB // 3) + "\n"), "gecko", "emphasis.md"),
    ("Markdown with 5 MB of [a](", text("links.md", "# Link run of the tamarin\n\n" + "[a](" * (5 * MB // 4) + "\n"), "tamarin", "links.md"),
    ("a 9 MB paragraph", text("paragraph.txt", "One long paragraph\n\n" + "the dingo walks on and on " * (9 * MB // 26) + "\n"), "dingo", "paragraph.txt"),
    # (bench/hostile_files.py times 1,000,000: whoosh takes minutes to index them, too long for a test)
    ("JSONL record with 100,000 bullets", jsonl("many.jsonl", record(id="many", headline="Many bullets",
                                                                    bullets=["jackal", *range(100_000)])), "jackal", "many"),
    ("UTF-16 JSONL", lambda root: (root / "utf16.jsonl").write_text(record(id="sixteen", headline="Sixteen-bit feed", body="Wallaby.") + "\n",
                                                                   encoding="utf-16"), "wallaby", "sixteen"),
    ("JSONL line after a 100 MB line", sparse("big.jsonl", b'{"id": "big", "body": "', 100 * MB,
                                              b'"}\n' + record(id="after-big", headline="After the big line", body="Tapir.").encode() + b"\n"), "tapir", "after-big"),
]


def _cases() -> list[str]:
    return [case for case, *_ in BAD] + [case for case, *_ in GOOD]


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any], int]:
    """The hostile corpus, built once: (corpus, index, JSON report, exit code)."""
    corpus = tmp_path_factory.mktemp("hostile-corpus")
    index = tmp_path_factory.mktemp("hostile-index")
    for _, write, *_ in BAD + GOOD:
        write(corpus)
    cwd = os.getcwd()
    os.chdir(corpus)  # the YAML payload would write PWNED here if it ever ran
    try:
        result = run_build(corpus, index)
    finally:
        os.chdir(cwd)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return corpus, index, build_report(result), result.exit_code


def test_build_exits_1_and_reports_every_bad_file(hostile_build: tuple[Path, Path, dict[str, Any], int]) -> None:
    corpus, _, report, code = hostile_build
    assert code == 1
    reasons = {(Path(s["path"]).name, s["line"]): s["reason"] for s in report["skipped"]}
    for case, _, name, fragment in BAD:
        assert (name, None) in reasons, f"{case}: {name} not reported"
        assert fragment in reasons[(name, None)], f"{case}: {reasons[(name, None)]!r}"
    for line, fragment in JSONL_SKIPS.items():
        assert fragment in reasons[("feed.jsonl", line)]
    assert "over the 10,485,760-byte article size cap" in reasons[("big.jsonl", 1)]
    assert reasons[("second-feed.jsonl", 1)].startswith("duplicate id 'feed-1' (first read from ")
    assert all(s["path"].startswith(str(corpus)) for s in report["skipped"]), "reports name the full path"
    assert not (corpus / "PWNED").exists(), "front matter must never execute anything"


@pytest.mark.parametrize("case,word,expected", [(case, word, expected) for case, _, word, expected in GOOD])
def test_good_articles_next_to_bad_ones_are_findable(hostile_build: tuple[Path, Path, dict[str, Any], int],
                                                     case: str, word: str, expected: str) -> None:
    _, index, _, _ = hostile_build
    assert expected in hit_ids(run_search(index, word)), case


def test_a_one_line_file_gets_a_short_headline_and_keeps_its_text(hostile_build: tuple[Path, Path, dict[str, Any], int]) -> None:
    _, index, _, _ = hostile_build
    (hit,) = [h for h in json.loads(run_search(index, "wombat").stdout)["hits"]]
    assert hit["headline"].startswith("filler filler") and hit["headline"].endswith("…") and len(hit["headline"]) <= 501


@pytest.mark.parametrize("word", ["dingo", "jackal"])
def test_a_huge_article_prints_a_short_answer(hostile_build: tuple[Path, Path, dict[str, Any], int], word: str) -> None:
    _, index, _, _ = hostile_build
    result = run_search(index, word)
    (hit,) = json.loads(result.stdout)["hits"]
    assert hit["snippets"] and all(len(s["text"]) <= 1_000 for s in hit["snippets"])
    assert len(result.stdout) < 10_000


def test_script_content_is_not_indexed(hostile_build: tuple[Path, Path, dict[str, Any], int]) -> None:
    _, index, _, _ = hostile_build
    assert run_search(index, "xylophone").exit_code == 1  # no hits


def test_indexed_and_skipped_counts_add_up(hostile_build: tuple[Path, Path, dict[str, Any], int]) -> None:
    _, _, report, _ = hostile_build
    assert report["indexed"] == len(GOOD) + 1  # one article per GOOD case, plus feed-7 (headline only)
    assert len(report["skipped"]) == len(BAD) + 1 + len(JSONL_SKIPS) + 2  # + loop-b.txt, big.jsonl:1, second-feed:1


def test_each_skipped_file_is_one_report_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from indexer.cli import main as index_main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ok.txt").write_text(article("Fine", "Body."), encoding="utf-8")
    (corpus / "two\nlines.txt").write_text("", encoding="utf-8")
    result = CliRunner().invoke(index_main, ["build", str(corpus), "--index", str(tmp_path / "index")])
    assert result.exit_code == 1
    assert f"skipped {corpus}/two\\nlines.txt: no text (empty or whitespace only)" in result.stderr.splitlines()


def test_size_cap_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "long.txt").write_text(article("Long article", "word " * 400), encoding="utf-8")
    (corpus / "short.txt").write_text(article("Short article", "Gnu."), encoding="utf-8")
    (corpus / "feed.jsonl").write_text(record(id="long-record", headline="x", body="word " * 400) + "\n", encoding="utf-8")
    config = tmp_path / "search.toml"
    config.write_text("max_article_bytes = 1000\n", encoding="utf-8")
    monkeypatch.setenv("ARTICLE_SEARCH_CONFIG", str(config))
    result = run_build(corpus, tmp_path / "index")
    report = build_report(result)
    assert result.exit_code == 1 and report["indexed"] == 1
    assert sorted(Path(s["path"]).name for s in report["skipped"]) == ["feed.jsonl", "long.txt"]
    assert all("over the 1,000-byte article size cap" in s["reason"] for s in report["skipped"])


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    secret = corpus / "secret.txt"
    secret.write_text(article("Secret", "Hidden."), encoding="utf-8")
    (corpus / "open.txt").write_text(article("Open", "Visible."), encoding="utf-8")
    secret.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the read fail as it would for a user
        import indexer.readers

        real = indexer.readers.open_article

        def open_article(path: Path) -> Any:
            if Path(path).name == "secret.txt":
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(indexer.readers, "open_article", open_article)
    try:
        result = run_build(corpus, tmp_path / "index")
    finally:
        secret.chmod(0o644)
    report = build_report(result)
    assert result.exit_code == 1 and report["indexed"] == 1
    (skipped,) = report["skipped"]
    assert skipped["path"] == str(secret) and skipped["reason"] == "cannot read: Permission denied"


def test_followed_symlinks_stay_inside_the_root_and_never_loop(tmp_path: Path) -> None:
    from indexer.readers import find_files

    corpus = tmp_path / "corpus"
    (corpus / "real").mkdir(parents=True)
    (corpus / "real" / "a.txt").write_text(article("Real", "Body."), encoding="utf-8")
    os.symlink("../real", corpus / "real" / "again")  # a folder loop
    os.symlink("real/a.txt", corpus / "link.txt")  # a file link inside the root
    os.symlink("/etc/passwd", corpus / "passwd.txt")
    os.symlink("/etc", corpus / "etc")
    os.symlink("nowhere.txt", corpus / "dangling.txt")
    os.symlink("loop2.txt", corpus / "loop1.txt")
    os.symlink("loop1.txt", corpus / "loop2.txt")
    files, problems = find_files([corpus], follow_symlinks=True)
    assert sorted(f.rel for f in files) == ["link.txt", "real/a.txt"]
    reasons = {Path(p.path).name: p.reason for p in problems}
    assert reasons["passwd.txt"] == reasons["etc"] == "symbolic link pointing outside the corpus folder"
    assert reasons["loop1.txt"] == reasons["loop2.txt"] == "symbolic link loop"
    assert reasons["dangling.txt"].startswith("broken symbolic link")
    assert "already indexed" in reasons["again"]


def test_update_handles_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    """Build, then change and remove the oddly named file: `search-index update` follows it."""
    from click.testing import CliRunner

    from indexer.cli import main as index_main

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "ok.txt").write_text(article("Fine", "Capybara."), encoding="utf-8")
    odd = os.fsencode(corpus) + b"/odd\xffname.txt"
    bytes_name(b"odd\xffname.txt", article("Odd name", "Axolotl."))(corpus)
    assert run_build(corpus, index).exit_code == 0
    assert hit_ids(run_search(index, "axolotl")) == ["odd\\xffname.txt"]

    def update() -> int:
        return CliRunner().invoke(index_main, ["update", str(corpus), "--index", str(index), "-q"]).exit_code

    with open(odd, "w", encoding="utf-8") as stream:
        stream.write(article("Odd name", "Quokka instead."))
    assert update() == 0
    assert hit_ids(run_search(index, "quokka")) == ["odd\\xffname.txt"] and not hit_ids(run_search(index, "axolotl"))
    os.remove(odd)
    assert update() == 0
    assert not hit_ids(run_search(index, "quokka")) and hit_ids(run_search(index, "capybara")) == ["ok.txt"]
