"""`search-index serve`: the search page and the JSON API on one port, over one shared Searcher.

Starlette (routing, requests), Jinja2 (templates, autoescaping) and uvicorn (the HTTP server) are
imported only from here, so `search` and the indexer start without them.
"""
from __future__ import annotations

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
