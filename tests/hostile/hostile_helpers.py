"""Helpers shared by the hostile-input suite: writing corpora and running the two commands."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from indexer.cli import main as index_main
from query.cli import main as search_main


def article(headline: str, body: str) -> str:
    """A well-formed .txt article."""
    return f"{headline}\n\n{body}\n"


def run_build(corpus: Path, index: Path, *extra: str) -> Result:
    """`search-index build CORPUS --index INDEX --json -q` through click's runner."""
    return CliRunner().invoke(index_main, ["build", str(corpus), "--index", str(index), "--json", "-q", *extra])


def build_report(result: Result) -> dict[str, Any]:
    """The JSON build report printed on stdout."""
    return json.loads(result.stdout)


def run_search(index: Path, *words: str) -> Result:
    """`search --index INDEX --json WORDS...` through click's runner."""
    return CliRunner().invoke(search_main, ["--index", str(index), "--json", "--", *words])


def json_error(result: Result) -> str:
    """The error `search --json` prints on stdout: one object, {"error": ...}, saying what stderr says."""
    answer = json.loads(result.stdout)
    assert list(answer) == ["error"] and answer["error"] in result.stderr, (result.stdout, result.stderr)
    return answer["error"]


def hit_ids(result: Result) -> list[str]:
    assert result.exit_code in (0, 1), result.output
    return [hit["id"] for hit in json.loads(result.stdout)["hits"]]
