"""The benchmark scripts are not run in CI (they take minutes to hours), but they must keep up with
the code they drive: each one is imported here, so a renamed or removed function fails a test."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT

SCRIPTS = sorted((PROJECT_ROOT / "bench").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_benchmark_script_imports(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(script.parent))  # scripts import their neighbours by name
    spec = importlib.util.spec_from_file_location(f"bench_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)  # raises if a name it imports from the project is gone
