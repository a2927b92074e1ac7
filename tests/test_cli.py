"""The `search` command as a user meets it, through click's runner: arguments, messages, text output,
configuration and exit codes. Real terminals (width, colour, pager) are in tests/test_terminal.py,
the installed tool in tests/test_install.py."""
from __future__ import annotations

import json
import re
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from indexer.cli import main as index_main
from indexer.config import load_config
from indexer.errors import ArticleSearchError
from query import search
from query.cli import main as search_main
from query.render import render_text

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(search_main, list(args), env=env, prog_name="search")


def hit_ids(result: Result) -> list[str]:
    return [hit["id"] for hit in json.loads(result.stdout)["hits"]]


# --- arguments ---------------------------------------------------------------------------------

def test_query_words_may_start_with_a_dash(bbc_index: Path) -> None:
    with_all = hit_ids(run("aguilera", "--json", "-n", "50", "--index", str(bbc_index)))
    without = run("-bratman", "aguilera", "--json", "-n", "50", "--index", str(bbc_index))
    assert without.exit_code == 0, without.output
    assert json.loads(without.stdout)["query"] == "-bratman aguilera"
    with_bratman = {hit.id for hit in search("bratman", index=bbc_index, limit=50).hits}
    excluded = set(with_all) - set(hit_ids(without))
    assert excluded and excluded <= with_bratman and not with_bratman & set(hit_ids(without))
    # options may come before, between and after such words; `--` still ends the options
    assert hit_ids(run("-n", "50", "aguilera", "--json", "-bratman", "--index", str(bbc_index))) == hit_ids(without)
    assert hit_ids(run("--json", "-n50", "--index", str(bbc_index), "--", "-bratman", "aguilera")) == hit_ids(without)


def test_a_query_of_only_excluded_words_is_a_bad_query_not_an_unknown_option(bbc_index: Path) -> None:
    result = run("-football", "--index", str(bbc_index))
    assert result.exit_code == 2
    assert result.stderr.startswith("search: bad query:") and result.stderr.count("\n") == 1
    assert "No such option" not in result.output


def test_a_mistyped_long_option_is_still_an_error(bbc_index: Path) -> None:
    result = run("gibraltar", "--jsno", "--index", str(bbc_index))
    assert result.exit_code == 2 and "No such option '--jsno'" in result.stderr


def test_no_query_prints_usage_and_builds_nothing(tmp_path: Path) -> None:
    result = run(env={"XDG_DATA_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: search [OPTIONS] [QUERY]...")
    assert "give a QUERY to search for, or --like ARTICLE_ID" in result.stderr
    assert list(tmp_path.iterdir()) == [], "no index was built"


@pytest.mark.parametrize("command, name", [(search_main, "search"), (index_main, "search-index")])
def test_version(command: object, name: str) -> None:
    result = CliRunner().invoke(command, ["--version"], prog_name=name)  # type: ignore[arg-type]
    assert result.exit_code == 0 and result.stdout == f"{name} {version('article-search')}\n"


# --- where the index is ------------------------------------------------------------------------

def test_an_index_named_by_the_environment_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    result = run("Jalalabad", env={"ARTICLE_SEARCH_INDEX": str(nowhere), "XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert result.exit_code == 2
    assert result.stderr == f"search: no index at {nowhere}; build one with: search-index build CORPUS_DIR --index {nowhere}\n"
    assert not nowhere.exists() and not (tmp_path / "xdg").exists(), "nothing was built from the bundled corpus"


def test_an_index_named_in_search_toml_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "search.toml"
    config.write_text(f'index = "{tmp_path / "nowhere"}"\n')
    result = run("Jalalabad", env={"ARTICLE_SEARCH_CONFIG": str(config), "XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert result.exit_code == 2 and "no index at" in result.stderr and "search-index build" in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_no_index_and_no_corpus_says_what_to_run(tmp_path: Path) -> None:
    result = run("Jalalabad", env={"ARTICLE_SEARCH_CORPUS": str(tmp_path / "no-corpus"), "XDG_DATA_HOME": str(tmp_path)})
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "search-index build CORPUS_DIR" in result.stderr and "Traceback" not in result.output


def test_the_api_does_not_build_an_index_named_by_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTICLE_SEARCH_INDEX", str(tmp_path / "nowhere"))
    with pytest.raises(ArticleSearchError, match="no index at"):
        search("Jalalabad")
    assert not (tmp_path / "nowhere").exists()


# --- configuration -----------------------------------------------------------------------------

@pytest.mark.parametrize("line, message", [
    ('follow_symlinks = "false"', 'follow_symlinks must be true or false, not "false"'),
    ('limit = "ten"', 'limit must be a whole number, not "ten"'),
    ("limit = 0", "limit must be between 1 and 10,000, not 0"),
    ("context = true", "context must be a whole number, not true"),
    ("index = 3", "index must be a path (a string), not 3"),
    ("corpus = [1, 2]", "corpus must be a folder or a list of folders, not [1, 2]"),
    ('[weights]\nheadline = "high"', 'weights.headline must be a number, not "high"'),
])
def test_config_values_are_type_checked(tmp_path: Path, line: str, message: str) -> None:
    config = tmp_path / "search.toml"
    config.write_text(line + "\n")
    with pytest.raises(ArticleSearchError) as caught:
        load_config(config_file=config)
    assert str(caught.value) == f"{config}: {message}"
    result = run("Jalalabad", env={"ARTICLE_SEARCH_CONFIG": str(config)})
    assert result.exit_code == 2 and result.stderr == f"search: {config}: {message}\n"


def test_config_values_of_the_right_type_are_used(tmp_path: Path) -> None:
    config = tmp_path / "search.toml"
    config.write_text("follow_symlinks = false\nlimit = 3\ncontext = 0\n")
    loaded = load_config(config_file=config)
    assert (loaded.follow_symlinks, loaded.limit, loaded.context) == (False, 3, 0)


def test_the_api_and_the_command_use_the_configured_limit(bbc_index: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "search.toml"
    config.write_text("limit = 2\n")
    monkeypatch.setenv("ARTICLE_SEARCH_CONFIG", str(config))
    results = search("gibraltar", index=bbc_index)
    assert len(results.hits) == 2 and results.total > 2
    result = run("gibraltar", "--index", str(bbc_index))
    assert f"showing 2 of {results.total:,} articles" in result.stdout


# --- text output -------------------------------------------------------------------------------

def test_each_hit_shows_the_id_that_like_takes(bbc_index: Path) -> None:
    result = run("gibraltar", "-n", "1", "--index", str(bbc_index))
    lines = result.stdout.splitlines()
    headline = next(i for i, line in enumerate(lines) if line.startswith("1. "))
    shown_id = lines[headline + 1].split(" · ")[0].strip()
    assert shown_id == search("gibraltar", index=bbc_index, limit=1).hits[0].id
    like = run("--like", shown_id, "--json", "-n", "3", "--index", str(bbc_index))
    assert like.exit_code == 0 and shown_id not in hit_ids(like) and len(hit_ids(like)) == 3


def test_counts_say_how_many_are_shown_of_how_many(bbc_index: Path) -> None:
    total = search("gibraltar", index=bbc_index).total
    assert total > 2
    assert run("gibraltar", "-n", "2", "--index", str(bbc_index)).stdout.startswith(
        f'showing 2 of {total:,} articles for "gibraltar"\n')
    assert run("gibraltar", "--index", str(bbc_index)).stdout.startswith(f'{total:,} articles for "gibraltar"\n')
    one = search("Jalalabad", index=bbc_index)
    assert one.total == 1
    assert run("Jalalabad", "--index", str(bbc_index)).stdout.startswith('1 article for "Jalalabad"\n')
    assert run("Jalalabad checkpoints", "--index", str(bbc_index)).stdout.startswith(  # one more has "checkpoints"
        '1 article has every word of "Jalalabad checkpoints", ranked first; then articles with some of them\n'
        '2 articles for "Jalalabad checkpoints"\n')


def test_filters_that_remove_every_hit_are_named(bbc_index: Path) -> None:
    total = search("gibraltar", index=bbc_index).total
    result = run("gibraltar", "--since", "2030", "--index", str(bbc_index))
    assert result.exit_code == 1
    assert result.stdout == f'no article matches the filters ({total:,} articles match "gibraltar" without them)\n'


def test_no_hit_at_all_is_not_announced_as_a_fallback(bbc_index: Path) -> None:
    result = run("qwzxnonsense", "qwzxother", "--index", str(bbc_index))
    assert result.exit_code == 1
    assert result.stdout == 'no article matches "qwzxnonsense qwzxother"\n'


def test_a_correction_shows_the_word_not_its_possessive(bbc_index: Path) -> None:
    """The first BBC hits for "japan" spell it "Japan's" first; the message names the word searched."""
    result = run("japn", "-n", "1", "--index", str(bbc_index))
    assert result.exit_code == 0
    assert result.stdout.startswith('Showing results for "japan" (no results for "japn")\nshowing 1 of ')


def test_wrapped_lines_fit_the_width_with_a_hanging_indent_and_whole_words(bbc_index: Path) -> None:
    results = search("gibraltar talks Straw", index=bbc_index, limit=5, context=2)
    plain = render_text(results, color=False).splitlines()
    wrapped = iter(render_text(results, color=False, width=50).splitlines())
    continued = 0
    for line in plain:  # each line of the unwrapped text comes back as a first line and its continuations
        rank = re.match(r"\d+\. ", line)
        indent = len(rank.group()) if rank else 5 if line.startswith("   ") else 3
        first = next(wrapped)
        assert line.startswith(first) and len(first) <= 50
        words = first.split()
        while len(words) < len(line.split()):
            more = next(wrapped)
            assert more.startswith(" " * indent) and not more[indent].isspace(), "a hanging indent"
            item = more.split(maxsplit=1)[-1] if more.lstrip().startswith("· ") else more  # a separator goes with its item
            assert len(more) <= 50 or len(item.split()) == 1, "a word longer than a line stays whole"
            words += more.split()
            continued += 1
        assert words == line.split(), "no word is broken or lost"
    assert next(wrapped, None) is None and continued > 10


def test_piped_marks_cannot_be_confused_with_brackets_in_the_text(tmp_path: Path) -> None:
    """News text quotes with brackets ("[the minister]"): uncoloured output marks matches another way."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "quote.txt").write_text("Harbour talks resume\n\nHe said [the minister] would reopen the harbour talks.\n")
    index = tmp_path / "index"
    assert CliRunner().invoke(index_main, ["build", str(corpus), "--index", str(index)]).exit_code == 0
    out = run("minister", "--color=never", "--index", str(index)).stdout
    assert "[the **minister**]" in out and "[minister]" not in out


def test_colour_is_chosen_by_the_option_over_no_color(bbc_index: Path) -> None:
    always = run("gibraltar", "--color=always", "--index", str(bbc_index), env={"NO_COLOR": "1"})
    assert ANSI.search(always.stdout) and "**Gibraltar" not in always.stdout
    never = run("gibraltar", "--color", "never", "--index", str(bbc_index))
    assert not ANSI.search(never.stdout) and "**Gibraltar**" in never.stdout
    assert run("gibraltar", "--color=sometimes", "--index", str(bbc_index)).exit_code == 2


def bold_characters(line: str) -> list[tuple[str, bool]]:
    """Each visible character of a line with whether bold is on for it."""
    shown, bold, position = [], False, 0
    for match in ANSI.finditer(line + "\x1b[m"):
        shown += [(char, bold) for char in line[position:match.start()]]
        codes = match.group()[2:-1].split(";")
        if "0" in codes or codes == [""]:
            bold = False
        if "1" in codes:
            bold = True
        position = match.end()
    return shown


def test_a_headline_stays_bold_around_its_highlighted_words(bbc_index: Path) -> None:
    hit = search("gibraltar", index=bbc_index, limit=1).hits[0]
    assert hit.headline_highlights, "the top headline holds the word"
    line = run("gibraltar", "-n", "1", "--color=always", "--index", str(bbc_index)).stdout.splitlines()[2]
    characters = bold_characters(line)
    assert "".join(c for c, _ in characters).startswith(f"1. {hit.headline}")
    headline = characters[3:3 + len(hit.headline)]
    assert all(bold for _, bold in headline)


# --- errors ------------------------------------------------------------------------------------

def test_a_bad_date_is_a_bad_option(bbc_index: Path) -> None:
    result = run("gibraltar", "--since", "yesterday", "--index", str(bbc_index))
    assert result.exit_code == 2
    assert result.stderr == "search: bad option: --since 'yesterday' is not a date; use YYYY-MM-DD, YYYY-MM or YYYY\n"


@pytest.mark.parametrize("args, message", [
    (["the of and"], "bad query: "),
    (["gibraltar", "--since", "yesterday"], "bad option: "),
    (["gibraltar", "--limit", "0"], "Invalid value for '-n' / '--limit'"),
    ([], "give a QUERY"),
])
def test_json_errors_are_one_object_on_stdout(bbc_index: Path, args: list[str], message: str) -> None:
    result = run(*args, "--json", "--index", str(bbc_index))
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert list(error) == ["error"] and message in error["error"]
    assert message in result.stderr


def test_no_index_with_json_is_a_json_error(tmp_path: Path) -> None:
    result = run("x", "--json", "--index", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and json.loads(result.stdout)["error"].startswith("no index at")


def test_a_missing_engine_library_names_the_extra_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tantivy", None)  # as if tantivy were not installed
    monkeypatch.delitem(sys.modules, "indexer.engines.tantivy", raising=False)
    from indexer.config import BUNDLED_CORPUS

    result = CliRunner().invoke(index_main, ["build", str(BUNDLED_CORPUS), "--index", str(tmp_path / "ix"), "--engine", "tantivy"])
    assert result.exit_code == 2
    assert result.stderr == ("search-index: engine 'tantivy' needs tantivy, which is not installed; "
                             "install it with: pip install 'article-search[tantivy]'\n")
