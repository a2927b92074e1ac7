"""End-to-end search: what a user sees from the API, the CLI (click runner) and the installed command."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BUNDLED_CORPUS, FOUNDING_ID, PROJECT_ROOT, bbc_id, read_known_items

from indexer.cli import main as index_main
from query import Searcher, search
from query.cli import main as search_main


def highlighted_words(text: str, spans: list | tuple) -> list[str]:
    return [text[s:e].lower() for s, e in spans]


def test_founding_article_first_with_both_words_highlighted(bbc_index: Path) -> None:
    results = search("Jalalabad checkpoints", index=bbc_index)
    top = results.hits[0]
    assert top.id == FOUNDING_ID
    assert not results.fallback
    best = top.snippets[0]
    words = highlighted_words(best.text, best.highlights)
    assert "jalalabad" in words and "checkpoints" in words
    assert best.section == "captions"
    assert len(top.snippets) <= 3
    texts = [s.text for s in top.snippets]
    sentences = [sent for t in texts for sent in t.split(". ")]
    assert len(sentences) == len(set(sentences)), "no sentence is shown twice"


def test_known_items_mrr_over_bbc(bbc_index: Path) -> None:
    reciprocal_ranks = []
    with Searcher(bbc_index) as searcher:
        for query, targets in read_known_items(id_of=bbc_id):
            ids = [h.id for h in searcher.search(query, limit=10).hits]
            rank = next((i for i, doc in enumerate(ids, 1) if doc in targets), None)
            reciprocal_ranks.append(1 / rank if rank else 0.0)
    mrr = sum(reciprocal_ranks) / len(reciprocal_ranks)
    print(f"\nknown-item MRR@10 over BBC: {mrr:.3f} ({len(reciprocal_ranks)} queries)")
    assert mrr >= 0.8


def test_all_words_first_then_fallback_to_any_word(bbc_index: Path) -> None:
    strict = search("Gibraltar Straw", index=bbc_index)
    assert not strict.fallback and strict.hits[0].id == bbc_id("politics/015.txt")
    relaxed = search("Gibraltar qwzxnonsense", index=bbc_index)
    assert relaxed.fallback and relaxed.total > 0
    assert all("gibraltar" in (h.headline + " ".join(s.text for s in h.snippets)).lower() for h in relaxed.hits)


def test_query_syntax_phrases_fields_and_negation(bbc_index: Path) -> None:
    with Searcher(bbc_index) as searcher:
        phrase = searcher.search('"jack straw"', limit=50)
        assert phrase.total > 0
        for hit in phrase.hits:
            assert any("jack straw" in s.text.lower() for s in hit.snippets) or "jack straw" in hit.headline.lower()
        headline_only = searcher.search("headline:aguilera")
        assert headline_only.hits and all("aguilera" in h.headline.lower() for h in headline_only.hits)
        without = searcher.search("aguilera -bratman", limit=50)
        assert without.hits and bbc_id("entertainment/260.txt") not in {h.id for h in without.hits}
        either = searcher.search("bratman OR shevardnadze", limit=50)
        assert {bbc_id("entertainment/260.txt"), bbc_id("business/199.txt")} <= {h.id for h in either.hits}
        field_option = searcher.search("blair", field="headline", limit=20)
        assert all("blair" in h.headline.lower() for h in field_option.hits)


def test_malformed_query_is_searched_as_plain_words(bbc_index: Path) -> None:
    results = search('Jalalabad "checkpoints AND (', index=bbc_index)
    assert results.plain_words and results.hits[0].id == FOUNDING_ID


def test_context_sentences(bbc_index: Path) -> None:
    none = search("Shevardnadze amnesty", index=bbc_index, context=0).hits[0].snippets[0]
    two = search("Shevardnadze amnesty", index=bbc_index, context=2).hits[0].snippets[0]
    assert len(two.text) > len(none.text) and none.text in two.text


def run_cli(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(search_main, args, env=env)
    return result.exit_code, result.stdout, result.stderr


def test_cli_text_output_marks_words_when_piped(bbc_index: Path) -> None:
    code, out, _ = run_cli(["Jalalabad checkpoints", "--index", str(bbc_index)])
    assert code == 0
    assert "1. Child ISIS fighter" in out
    assert "**Jalalabad**" in out and "**checkpoints**" in out
    assert "captions:" in out and FOUNDING_ID in out and "score" in out


def test_cli_json_schema(bbc_index: Path) -> None:
    code, out, _ = run_cli(["Jalalabad", "checkpoints", "--json", "--limit", "3", "--index", str(bbc_index)])
    assert code == 0
    data = json.loads(out)
    assert {"query", "total", "fallback", "hits"} <= data.keys()
    assert data["query"] == "Jalalabad checkpoints" and data["fallback"] is False
    hit = data["hits"][0]
    assert {"id", "path", "headline", "score", "date", "snippets"} <= hit.keys()
    assert hit["id"] == FOUNDING_ID and isinstance(hit["score"], float)
    for snippet in hit["snippets"]:
        assert snippet["section"] in ("bullets", "body", "captions")
        for start, end in snippet["highlights"]:
            assert 0 <= start < end <= len(snippet["text"])
    marked = {snippet["text"][s:e].lower() for snippet in hit["snippets"] for s, e in snippet["highlights"]}
    assert {"jalalabad", "checkpoints"} <= marked


def test_cli_exit_codes_and_one_line_errors(bbc_index: Path, tmp_path: Path) -> None:
    assert run_cli(["zzqxvnonexistentword", "--index", str(bbc_index)])[0] == 1
    code, _, err = run_cli(["the of and", "--index", str(bbc_index)])
    assert code == 2 and err.startswith("search: bad query") and err.count("\n") == 1
    code, _, err = run_cli(["anything", "--index", str(tmp_path / "nowhere")])
    assert code == 2 and "no index" in err and "search-index build" in err and "Traceback" not in err
    assert run_cli(["x", "--limit", "0", "--index", str(bbc_index)])[0] == 2


def test_first_run_builds_from_bundled_corpus_then_reuses(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}
    code, out, err = run_cli(["Jalalabad checkpoints"], env=env)
    assert code == 0 and "founding-article.txt" in out
    assert "building one from" in err and str(BUNDLED_CORPUS) in err
    code, out, err = run_cli(["Jalalabad checkpoints"], env=env)
    assert code == 0 and "building" not in err


def test_build_reports_bad_files_and_indexes_the_rest(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(BUNDLED_CORPUS / "founding-article.txt", corpus)
    (corpus / "empty.txt").write_text("  \n\n ")
    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (corpus / "feed.jsonl").write_text('{"headline": "Fine", "body": "Body."}\n{broken\n')
    result = CliRunner().invoke(index_main, ["build", str(corpus), "--index", str(tmp_path / "ix"), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["indexed"] == 2
    reasons = {(Path(s["path"]).name, s["line"]): s["reason"] for s in report["skipped"]}
    assert "no text" in reasons[("empty.txt", None)]
    assert "binary" in reasons[("image.txt", None)]
    assert "invalid JSON" in reasons[("feed.jsonl", 2)]
    assert "skipped" in result.stderr and "2 articles indexed" in result.stderr
    assert search("Jalalabad", index=tmp_path / "ix").hits[0].id == "founding-article.txt"


def test_installed_search_command(bbc_index: Path) -> None:
    executable = shutil.which("search", path=str(Path(sys.executable).parent)) or shutil.which("search")
    assert executable, "the `search` console script is installed with the package"
    env = {**os.environ, "ARTICLE_SEARCH_INDEX": str(bbc_index)}
    done = subprocess.run([executable, "Jalalabad checkpoints"], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    first_hit = done.stdout.split("\n2. ")[0]
    assert "founding-article.txt" in first_hit and "**Jalalabad**" in first_hit
    help_text = subprocess.run([executable, "--help"], capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and "--json" in help_text.stdout


@pytest.mark.parametrize("weights", ["headline=0,bullets=0,body=1,captions=0"])
def test_weights_come_from_the_environment(bbc_index: Path, monkeypatch: pytest.MonkeyPatch, weights: str) -> None:
    monkeypatch.setenv("ARTICLE_SEARCH_WEIGHTS", weights)
    with Searcher(bbc_index) as searcher:
        assert searcher.config.weights["headline"] == 0
        assert searcher.search("Jalalabad checkpoints").hits[0].id == FOUNDING_ID


def test_snippets_of_the_best_hits_are_those_cut_afresh(bbc_index: Path) -> None:
    """The hits shown take the matching words the ranking found in them (query.evidence) instead of
    looking again: their snippets must be exactly those cut from the article alone, for queries that
    reorder (several words, a prefix, a phrase, a fallback to some of the words) and one that does not."""
    from query.snippets import make_snippets
    from query.syntax import TermMatcher, parse

    with Searcher(bbc_index) as searcher:
        for query in ("oil prices", "Blair elect*", '"prime minister" Iraq', "Jalalabad checkpoints Wimbledon", "football"):
            results = searcher.search(query, limit=10)
            assert results.hits, query
            matcher = TermMatcher(parse(query).root)
            for hit in results.hits:
                article = searcher.article(hit.id)
                assert article is not None
                assert hit.snippets == make_snippets(article, matcher), (query, hit.id)
            assert any(snippet.highlights for snippet in results.hits[0].snippets), query
