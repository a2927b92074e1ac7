"""The ASGI app of `search-index serve`: the JSON API and the search page over one shared Searcher.

Read-only: every route is a GET (HEAD) except the token form, and nothing writes. Searches run in a
bounded pool of threads with a time budget; a bad request is a 400 with {"error": ...}, an unknown
id a 404, an index that cannot answer a 503, and a bug a 500 with one line, its traceback going to
the server's log only: no request ever gets a traceback, and the server keeps serving.
"""
from __future__ import annotations

import hmac
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from indexer.engines import FACETS
from indexer.errors import ArticleSearchError, QueryError

from ..searcher import MAX_LIMIT, Searcher
from .options import SearchOptions
from .pages import active_filters, article_view, environment, facet_links, paging

log = logging.getLogger("article_search.web")

TOKEN_COOKIE = "article_search_token"
MAX_URL_BYTES = 8 * 1024  # path and query string: a query is at most 2,000 characters anyway
MAX_FORM_BYTES = 4 * 1024  # the token form, the only request with a body
WORKERS = 8  # searches running at once; more requests wait (within their time budget)
TIME_BUDGET = 10.0  # seconds a request may take before it is answered 503
LIKE_SHOWN = 5  # similar articles listed under an article
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                 b"frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class Unavailable(Exception):
    """The request ran out of its time budget."""


class Web:
    """The routes, sharing one Searcher, one template environment and one pool of search threads."""

    def __init__(self, searcher: Searcher, time_budget: float = TIME_BUDGET) -> None:
        self.searcher = searcher
        self.time_budget = time_budget
        self.templates = environment()
        self.limiter = anyio.CapacityLimiter(WORKERS)

    async def run(self, work: Callable[..., Any], *args: Any) -> Any:
        """Blocking index work in the search pool, within the time budget (a search that overruns
        it finishes in its thread; its request has already been answered)."""
        with anyio.move_on_after(self.time_budget) as scope:
            return await anyio.to_thread.run_sync(work, *args, limiter=self.limiter, abandon_on_cancel=True)
        if scope.cancelled_caught:
            raise Unavailable(f"the request took longer than {self.time_budget:g} s; try fewer words or a filter")
        raise AssertionError("unreachable")

    # -- the JSON API ---------------------------------------------------------------------------------

    async def api_search(self, request: Request) -> Response:
        options = SearchOptions.read(request.query_params)
        if not options.q.strip():
            raise QueryError("give a query: /api/search?q=WORDS")
        return JSONResponse(await self._search_dict(options))

    async def api_like(self, request: Request) -> Response:
        article_id = request.path_params["id"]
        if await self.run(self.searcher.article, article_id) is None:
            raise HTTPException(404, f"no article with id {article_id!r}")
        return JSONResponse(await self._search_dict(SearchOptions.read(request.query_params, q="", like=article_id)))

    async def _search_dict(self, options: SearchOptions) -> dict[str, Any]:
        results = await self.run(lambda: self.searcher.search(options.q, **options.search_arguments()))
        answer = {**results.to_dict(), "offset": results.offset}
        if results.warning:
            answer["warning"] = results.warning
        return answer

    async def api_article(self, request: Request) -> Response:
        article_id = request.path_params["id"]
        article = await self.run(self.searcher.article, article_id)
        if article is None:
            raise HTTPException(404, f"no article with id {article_id!r}")
        return JSONResponse(asdict(article))

    async def health(self, request: Request) -> Response:
        serving = await self.run(self.searcher.serving)
        return JSONResponse({"status": "degraded" if serving.warning else "ok", **serving.to_dict()})

    # -- the page ---------------------------------------------------------------------------------

    async def page_search(self, request: Request) -> Response:
        options = SearchOptions.read(request.query_params, facets=FACETS)
        if any(not value for value in request.query_params.values()):  # the form sends its empty fields too
            return RedirectResponse("/?" + options.query_string(), status_code=303)  # a short address to share
        if not options.q.strip():
            return self._page("search.html", options=options, results=None)
        return await self._results_page(options, "/?", None)

    async def page_like(self, request: Request) -> Response:
        article_id = request.query_params.get("id", "")
        article = await self.run(self.searcher.article, article_id)
        if article is None:
            raise HTTPException(404, f"no article with id {article_id!r}")
        options = SearchOptions.read(request.query_params, q="", like=article_id)
        return await self._results_page(options, f"/like?id={_quoted(article_id)}&", article)

    async def _results_page(self, options: SearchOptions, prefix: str, like: Any) -> Response:
        """Results (of a query, or like an article) with the facets, filters and paging links that
        follow `prefix` ("/?")."""
        try:
            results = await self.run(lambda: self.searcher.search(options.q, **options.search_arguments()))
        except QueryError as exc:
            return self._page("search.html", status=400, options=options, results=None, error=str(exc))
        return self._page(
            "search.html", options=options, results=results, like=like, facets=facet_links(results, options, prefix),
            filters=active_filters(options, prefix), paging=paging(results, options, prefix, MAX_LIMIT),
            searched=results.suggestion.query if results.suggestion else options.q,
            exact_link="/?" + options.query_string(exact=True, offset=0),
        )

    async def page_article(self, request: Request) -> Response:
        article_id = request.query_params.get("id", "")
        query = request.query_params.get("q", "")

        def load() -> Any:
            article = self.searcher.article(article_id)
            if article is None:
                return None, None
            try:
                similar = self.searcher.search(like=article_id, limit=LIKE_SHOWN, snippets=0)
            except QueryError:  # an article with no telling words has no similar ones
                similar = None
            return article_view(article, query), similar

        view, similar = await self.run(load)
        if view is None:
            raise HTTPException(404, f"no article with id {article_id!r}")
        return self._page("article.html", view=view, similar=similar, options=SearchOptions(q=query),
                          like_link=f"/like?id={_quoted(article_id)}")

    def _page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("options", SearchOptions())
        html = self.templates.get_template(template).render(article_link=article_link, **context)
        return HTMLResponse(html, status_code=status)

    # -- errors -----------------------------------------------------------------------------------

    def error(self, request: Request, status: int, message: str) -> Response:
        """JSON for the API and health check, a page for people."""
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=status)
        return self._page("error.html", status=status, status_code=status, message=message)


def article_link(article_id: str, query: str = "") -> str:
    """The page of one article (its id as a query parameter: an id is never part of a path)."""
    return "/article?" + urlencode([("id", article_id), *([("q", query)] if query.strip() else [])])


def _quoted(article_id: str) -> str:
    return urlencode([("id", article_id)])[3:]


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


class Guard:
    """Checks every request before the app sees it: methods (read-only), sizes, and the token.

    With a token, a request must carry it as `Authorization: Bearer TOKEN` or in the cookie that the
    token form sets (compared in constant time; the token is never logged or put in a URL). Responses
    get headers that keep the page self-contained (no script, no outside resources) and unframed.
    """

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send)
        path, method = scope["path"], scope["method"]
        problem = self._problem(scope, path, method)
        if problem is not None:
            await _plain_error(scope, *problem)(scope, receive, send)
        elif path == "/login" and method == "POST":
            await (await self._login(scope, receive))(scope, receive, send)
        elif self.token is not None and not path.startswith("/static/") and not self._authorised(scope):
            if _is_api(path):
                await _plain_error(scope, 401, "a token is required: send the header Authorization: Bearer TOKEN")(scope, receive, send)
            else:
                await _login_page(401, "")(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _problem(self, scope: Scope, path: str, method: str) -> tuple[int, str] | None:
        if len(scope.get("raw_path") or path.encode()) + len(scope.get("query_string", b"")) > MAX_URL_BYTES:
            return 414, f"the address is too long (at most {MAX_URL_BYTES:,} bytes)"
        if method == "POST" and path == "/login":
            length = dict(scope["headers"]).get(b"content-length", b"")
            if not length.isdigit() or int(length) > MAX_FORM_BYTES:
                return 413, f"the form must say its length and be at most {MAX_FORM_BYTES:,} bytes"
            return None
        if method not in ("GET", "HEAD"):
            return 405, "this server only reads: use GET"
        return None

    def _authorised(self, scope: Scope) -> bool:
        headers = dict(scope["headers"])
        given = headers.get(b"authorization", b"")
        if given[:7].lower() == b"bearer " and self._matches(given[7:].strip()):
            return True
        cookies = headers.get(b"cookie", b"").decode("latin-1")
        for part in cookies.split(";"):
            name, _, value = part.strip().partition("=")
            if name == TOKEN_COOKIE and self._matches(value.encode("latin-1")):
                return True
        return False

    def _matches(self, given: bytes) -> bool:
        return self.token is not None and hmac.compare_digest(given, self.token)

    async def _login(self, scope: Scope, receive: Receive) -> Response:
        """The token form: a right token sets the cookie and goes to the search page."""
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_FORM_BYTES:
                return _plain_error(scope, 413, "the form is too large")
            if not message.get("more_body"):
                break
        given = dict(parse_qsl(body.decode("utf-8", "replace"))).get("token", "").strip()
        if self.token is None or not self._matches(given.encode()):
            return _login_page(401, "That token is not the one this server was started with.")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(TOKEN_COOKIE, given, httponly=True, samesite="strict", path="/")
        return response


def _is_api(path: str) -> bool:
    return path.startswith("/api/") or path == "/healthz"


def _plain_error(scope: Scope, status: int, message: str) -> Response:
    """An error answered before the app: JSON for the API, a short page otherwise."""
    if _is_api(scope["path"]):
        return JSONResponse({"error": message}, status_code=status)
    return HTMLResponse(environment().get_template("error.html").render(status_code=status, message=message,
                                                                        options=SearchOptions()), status_code=status)


def _login_page(status: int, message: str) -> Response:
    html = environment().get_template("login.html").render(message=message, options=SearchOptions())
    return HTMLResponse(html, status_code=status)


def _with_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
        await send(message)

    return sending


def create_app(searcher: Searcher, token: str | None = None, time_budget: float = TIME_BUDGET) -> ASGIApp:
    """The whole server for one Searcher: routes, error answers, static files, and the Guard in front."""
    web = Web(searcher, time_budget)

    def route(path: str, endpoint: Callable[[Request], Awaitable[Response]]) -> Route:
        async def answer(request: Request) -> Response:
            try:
                return await endpoint(request)
            except QueryError as exc:
                return web.error(request, 400, str(exc))
            except HTTPException as exc:
                return web.error(request, exc.status_code, str(exc.detail))
            except Unavailable as exc:
                return web.error(request, 503, str(exc))
            except ArticleSearchError as exc:  # the index cannot answer (missing, damaged, cluster down)
                return web.error(request, 503, str(exc))
            except Exception:
                log.exception("error answering %s", request.url.path)
                return web.error(request, 500, "internal error; the server log has the details")

        return Route(path, answer, methods=["GET"])

    routes = [
        route("/", web.page_search),
        route("/article", web.page_article),
        route("/like", web.page_like),
        route("/api/search", web.api_search),
        route("/api/articles/{id:path}", web.api_article),
        route("/api/like/{id:path}", web.api_like),
        route("/healthz", web.health),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        return web.error(request, status, "no such page" if status == 404 else str(getattr(exc, "detail", "")))

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    return Guard(app, token)
