"""`search-index`: the command-line face of the indexer; options, one call, report, exit codes."""
from __future__ import annotations

import json
from pathlib import Path

import click

from .config import load_config
from .errors import ArticleSearchError, BuildFailed, EngineUnavailable, LockHeld

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, EXIT_FAILED, EXIT_LOCKED = 0, 1, 2, 3, 75


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Build and maintain the article index."""


def _print_report(report: "object", as_json: bool, quiet: bool) -> None:
    from .models import BuildReport

    assert isinstance(report, BuildReport)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    if quiet:
        return
    for item in report.skipped:
        click.echo(f"skipped {item}", err=True)
    rate = report.indexed / report.seconds if report.seconds else 0.0
    click.echo(
        f"{report.mode}: {report.indexed:,} articles indexed, {len(report.skipped):,} skipped, "
        f"{report.seconds:.1f} s ({rate:,.0f} articles/s) -> {report.index_dir} [{report.generation}, {report.engine}]",
        err=True,
    )


@main.command()
@click.argument("corpus_dirs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--index", type=click.Path(path_type=Path), default=None, help="Index folder (default $ARTICLE_SEARCH_INDEX or the XDG data dir).")
@click.option("--engine", default=None, help="Search engine to build with (default whoosh).")
@click.option("--url", default=None, help="OpenSearch cluster URL(s), comma-separated (default $ARTICLE_SEARCH_OPENSEARCH_URL).")
@click.option("--shards", type=click.IntRange(1, 1024), default=None, help="OpenSearch primary shards of the new index (default 1).")
@click.option("--replicas", type=click.IntRange(0, 16), default=None, help="OpenSearch replicas of each shard (default 1).")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
def build(corpus_dirs: tuple[Path, ...], index: Path | None, engine: str | None, url: str | None, shards: int | None,
          replicas: int | None, as_json: bool, quiet: bool) -> None:
    """Index CORPUS_DIRS (default $ARTICLE_SEARCH_CORPUS or the bundled corpus/) recursively."""
    from .build import build_index
    from .progress import ProgressBar

    progress = ProgressBar("indexing", enabled=not quiet)
    try:
        config = load_config().with_(engine=engine, opensearch_url=url, opensearch_shards=shards, opensearch_replicas=replicas)
        report = build_index(corpus_dirs or None, index, config, progress)
    except LockHeld as exc:
        raise SystemExit(_fail(str(exc), EXIT_LOCKED))
    except (BuildFailed, EngineUnavailable) as exc:
        raise SystemExit(_fail(str(exc), EXIT_FAILED))
    except ArticleSearchError as exc:
        raise SystemExit(_fail(str(exc), EXIT_USAGE))
    finally:
        progress.finish()
    _print_report(report, as_json, quiet)
    raise SystemExit(EXIT_SKIPPED if report.skipped else EXIT_OK)


def _fail(message: str, code: int) -> int:
    click.echo(f"search-index: {message}", err=True)
    return code
