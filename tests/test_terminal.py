"""`search` in a real pseudo-terminal, as a person runs it: lines wrapped to the terminal's width,
colour unless NO_COLOR or --color=never, long output through the pager, short output printed."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from query import search

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SEARCH = shutil.which("search", path=str(Path(sys.executable).parent)) or shutil.which("search")
PAGER = f"{sys.executable} -c \"import sys; sys.stdout.write(''.join('paged: ' + l for l in sys.stdin))\""


def in_terminal(args: list[str], env: dict[str, str], columns: int = 60, rows: int = 200) -> tuple[int, str]:
    """Run the installed `search` with a pseudo-terminal of that size as its stdin, stdout and stderr;
    its exit code and everything it showed."""
    assert SEARCH, "the `search` console script is installed with the package"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    environment = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES", "NO_COLOR", "PAGER", "LESS")}
    environment.update(TERM="xterm-256color", **env)
    process = subprocess.Popen([SEARCH, *args], stdin=slave, stdout=slave, stderr=slave, env=environment, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not data:
                break
            chunks.append(data)
        code = process.wait(timeout=10)
    finally:
        if process.poll() is None:  # waiting for a person (an interactive pager): a failure, not a hang
            process.kill()
            process.wait()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


@pytest.fixture
def index_env(bbc_index: Path) -> dict[str, str]:
    return {"ARTICLE_SEARCH_INDEX": str(bbc_index)}


def test_lines_fit_the_terminal_width_and_words_stay_whole(index_env: dict[str, str], bbc_index: Path) -> None:
    code, shown = in_terminal(["gibraltar", "--no-pager"], index_env, columns=60)
    assert code == 0
    lines = ANSI.sub("", shown).splitlines()
    assert max(len(line) for line in lines) <= 60
    assert sum(line.startswith("     ") for line in lines) > 5, "continuation lines hang under their snippet"
    text = " ".join(ANSI.sub("", shown).split())  # line breaks and indents become single spaces
    for hit in search("gibraltar", index=bbc_index).hits:
        for snippet in hit.snippets:
            assert " ".join(snippet.text.split()) in text, "each snippet is shown with its words whole"


def test_colour_on_a_terminal_and_none_with_no_color(index_env: dict[str, str]) -> None:
    _, coloured = in_terminal(["gibraltar", "--no-pager"], index_env)
    assert "\x1b[33m\x1b[1mGibraltar" in coloured and "**Gibraltar**" not in coloured
    _, plain = in_terminal(["gibraltar", "--no-pager"], {**index_env, "NO_COLOR": "1"})
    assert not ANSI.search(plain) and "**Gibraltar**" in plain
    _, forced = in_terminal(["gibraltar", "--no-pager", "--color=always"], {**index_env, "NO_COLOR": "1"})
    assert ANSI.search(forced)
    _, never = in_terminal(["gibraltar", "--no-pager", "--color=never"], index_env)
    assert not ANSI.search(never)


def test_long_output_goes_through_the_pager(index_env: dict[str, str]) -> None:
    code, paged = in_terminal(["gibraltar talks", "-n", "10"], {**index_env, "PAGER": PAGER}, rows=20)
    assert code == 0
    lines = [line for line in paged.splitlines() if line.strip()]
    assert lines and all(line.startswith("paged: ") for line in lines)
    _, unpaged = in_terminal(["gibraltar talks", "-n", "10", "--no-pager"], {**index_env, "PAGER": PAGER}, rows=20)
    assert "paged: " not in unpaged and "1. " in unpaged


def test_output_that_fits_the_terminal_is_not_paged(index_env: dict[str, str]) -> None:
    code, shown = in_terminal(["Jalalabad checkpoints", "-n", "1"], {**index_env, "PAGER": PAGER}, rows=200)
    assert code == 0 and "paged: " not in shown and "1 article has every word" in shown and "1. " in shown
