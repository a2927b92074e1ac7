"""Query side of article-search: `search()`, `Searcher`, and the result types.

Names are imported on first use so that `search --help` starts without loading an engine.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Hit, SearchResults, Snippet
    from .searcher import Searcher, search

__all__ = ["search", "Searcher", "SearchResults", "Hit", "Snippet"]
_HOMES = {"search": ".searcher", "Searcher": ".searcher", "SearchResults": ".models", "Hit": ".models", "Snippet": ".models"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(name)
