"""The shipped schedule runs what it says: the service's command works, the timer and cron fire at 03:00."""
from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PROJECT_ROOT
from nightly_support import make_corpus

from indexer.cli import main as index_main

DEPLOY = PROJECT_ROOT / "deploy"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name)
    return parser


def test_service_command_updates_the_configured_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service = unit("article-search-update.service")
    command = shlex.split(service["Service"]["ExecStart"])
    assert Path(command[0]).name == "search-index" and command[1] == "update"
    assert service["Service"]["Type"] == "oneshot" and service["Service"]["SuccessExitStatus"] == "1"
    corpus = make_corpus(tmp_path / "corpus", per_category=2)
    monkeypatch.setenv("ARTICLE_SEARCH_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("ARTICLE_SEARCH_CORPUS", str(corpus))
    result = CliRunner().invoke(index_main, command[1:])
    assert result.exit_code == 0, result.output
    assert "update: 10 articles indexed" in result.stderr


def test_timer_and_cron_fire_at_three() -> None:
    timer = unit("article-search-update.timer")
    assert timer["Timer"]["OnCalendar"] == "*-*-* 03:00:00"
    assert timer["Timer"]["Unit"] == "article-search-update.service"
    lines = [line for line in (DEPLOY / "crontab").read_text().splitlines() if line and not line.startswith("#")]
    assert len(lines) == 1 and lines[0].split()[:5] == ["0", "3", "*", "*", "*"] and "search-index update" in lines[0]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_units_pass_systemd_analyze(tmp_path: Path) -> None:
    executable = Path(sys.executable).parent / "search-index"
    for name in ("article-search-update.service", "article-search-update.timer"):
        text = (DEPLOY / name).read_text().replace("/opt/article-search/.venv/bin/search-index", str(executable))
        (tmp_path / name).write_text(text)
    done = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / n) for n in ("article-search-update.timer", "article-search-update.service"))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
