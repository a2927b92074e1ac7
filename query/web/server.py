"""Running the app: uvicorn on one host and port, and the rule that only loopback may go without a token."""
from __future__ import annotations

import ipaddress
from typing import Any

import uvicorn

from indexer.errors import ArticleSearchError

from ..searcher import Searcher
from .app import TIME_BUDGET, create_app

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8750
MIN_TOKEN_LENGTH = 16
MAX_HEADER_BYTES = 16 * 1024  # request line and headers; a longer request is refused by the HTTP parser


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_access(host: str, token: str | None) -> None:
    """Another host than loopback only with a token, and a token long enough not to be guessed."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ArticleSearchError(f"the token must have at least {MIN_TOKEN_LENGTH} characters; make one with: "
                                 "python3 -c 'import secrets; print(secrets.token_urlsafe())'")
    if not is_loopback(host) and token is None:
        raise ArticleSearchError(f"serving on {host} lets other machines in: give --token TOKEN (or set "
                                 "$ARTICLE_SEARCH_TOKEN); requests must then carry it")


def serve(searcher: Searcher, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, token: str | None = None,
          time_budget: float = TIME_BUDGET, access_log: bool = True, **uvicorn_options: Any) -> None:
    """Serve until interrupted. The Searcher is opened once and shared by every request; it follows
    updates and rebuilds of the index by itself."""
    check_access(host, token)
    config = uvicorn.Config(create_app(searcher, token, time_budget), host=host, port=port, http="h11",
                            access_log=access_log, h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                            server_header=False, lifespan="off", **uvicorn_options)
    uvicorn.Server(config).run()
