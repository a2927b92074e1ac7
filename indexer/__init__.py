"""Indexer side of article-search: readers, analysis, engines, builds.

Names are imported on first use so that the CLIs start without loading an engine.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import build_index
    from .config import Config, load_config
    from .models import Article, BuildReport, Skipped
    from .runs import rollback_index
    from .status import index_status
    from .update import update_index

__all__ = ["build_index", "update_index", "rollback_index", "index_status", "Article", "BuildReport", "Skipped", "Config", "load_config"]
_HOMES = {"build_index": ".build", "update_index": ".update", "rollback_index": ".runs", "index_status": ".status",
          "Article": ".models", "BuildReport": ".models", "Skipped": ".models",
          "Config": ".config", "load_config": ".config"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(name)
