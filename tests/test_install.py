"""The project as a user installs it: a plain, non-editable `pip install .` into a fresh virtualenv,
then the installed `search` run from another folder finds the bundled corpus it carries.

Offline: the project is built with the setuptools of this environment (--no-build-isolation, the
`test` extra installs it) and its dependencies are taken from this environment through a .pth file
(only a path: this environment's own .pth files, such as the editable install's, are not run).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

SOURCES = ("pyproject.toml", "README.md", "indexer", "query", "corpus")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh virtualenv with the project installed from a copy of its sources."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    for name in SOURCES:
        if (PROJECT_ROOT / name).is_dir():
            shutil.copytree(PROJECT_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy(PROJECT_ROOT / name, source / name)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", "--quiet", str(source)],
        capture_output=True, text=True, timeout=300, cwd=root,
    )
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def user_env(home: Path) -> dict[str, str]:
    """The environment of a user with no settings: no PYTHONPATH into the checkout, no search.toml."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARTICLE_SEARCH_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, "XDG_DATA_HOME": str(home / "data"), "ARTICLE_SEARCH_MODEL_DIR": str(home / "no-model")}


def test_installed_search_finds_the_bundled_corpus_from_another_folder(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run([installed / "search", "Jalalabad checkpoints"], capture_output=True, text=True,
                          env=user_env(tmp_path), cwd=elsewhere, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('1 article for "Jalalabad checkpoints"\n')
    assert "**Jalalabad**" in done.stdout and "founding-article.txt" in done.stdout
    bundled = installed.parent / "lib"
    assert "building one from " in done.stderr and str(bundled) in done.stderr and "bundled_corpus" in done.stderr
    again = subprocess.run([installed / "search", "Jalalabad checkpoints"], capture_output=True, text=True,
                           env=user_env(tmp_path), cwd=elsewhere, timeout=120)
    assert again.returncode == 0 and "building" not in again.stderr


def test_installed_python_api_uses_the_installed_package(installed: Path, tmp_path: Path) -> None:
    program = ("import indexer, query; from query import search; "
               "print(indexer.__file__); print(search('Jalalabad checkpoints').hits[0].id)")
    done = subprocess.run([installed / "python", "-c", program], capture_output=True, text=True,
                          env=user_env(tmp_path), cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    module, top = done.stdout.splitlines()
    assert module.startswith(str(installed.parent)) and top.endswith("founding-article.txt")


@pytest.mark.parametrize("command", ["search", "search-index"])
def test_installed_commands_tell_their_version_and_complete(installed: Path, tmp_path: Path, command: str) -> None:
    done = subprocess.run([installed / command, "--version"], capture_output=True, text=True, env=user_env(tmp_path), timeout=60)
    assert done.stdout == f"{command} {version('article-search')}\n"
    variable = f"_{command.upper().replace('-', '_')}_COMPLETE"
    script = subprocess.run([installed / command], capture_output=True, text=True, timeout=60,
                            env={**user_env(tmp_path), variable: "bash_source"})
    assert script.returncode == 0 and f"complete -o nosort -F _{command.replace('-', '_')}_completion {command}" in script.stdout
    words = subprocess.run([installed / command], capture_output=True, text=True, timeout=60, env={
        **user_env(tmp_path), variable: "bash_complete", "COMP_WORDS": f"{command} --ver", "COMP_CWORD": "1"})
    assert words.stdout.splitlines() == ["plain,--version"]


def test_every_package_folder_is_installed() -> None:
    """pyproject.toml lists the packages (so that corpus/ can be mapped into one): a new package folder
    must be listed there too, or an installed tool would miss it."""
    listed = set(tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {str(p.parent.relative_to(PROJECT_ROOT)).replace("/", ".") for top in ("indexer", "query")
               for p in (PROJECT_ROOT / top).rglob("__init__.py")}
    assert listed == folders | {"indexer.bundled_corpus"}
