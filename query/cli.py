"""`search`: the command-line face of `query.Searcher`; options, one call, printing, exit codes."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from indexer.config import load_config
from indexer.errors import ArticleSearchError, QueryError
from indexer.models import SECTIONS as SEARCH_FIELDS

EXIT_HITS, EXIT_NO_HITS, EXIT_ERROR = 0, 1, 2


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("query", nargs=-1, required=False)
@click.option("-n", "--limit", type=click.IntRange(1, 10_000), default=None, help="Number of hits (default 10).")
@click.option("--context", type=click.IntRange(0, 20), default=None, help="Sentences of context on each side of a snippet (default 1).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--index", type=click.Path(path_type=Path), default=None, help="Index folder (default $ARTICLE_SEARCH_INDEX or ~/.local/share/article-search/index).")
@click.option("--field", type=click.Choice(SEARCH_FIELDS), default=None, help="Search one field only.")
@click.option("--color/--no-color", default=None, help="Highlight with colour (default: when printing to a terminal).")
@click.option("--since", metavar="DATE", default=None, help="Only articles dated on or after DATE (YYYY-MM-DD, YYYY-MM or YYYY).")
@click.option("--until", metavar="DATE", default=None, help="Only articles dated on or before DATE (inclusive).")
@click.option("--source", metavar="NAME", default=None, help="Only articles from this source.")
@click.option("--category", metavar="NAME", default=None, help="Only articles in this category.")
@click.option("--sort", type=click.Choice(("relevance", "date")), default="relevance", show_default=True, help="Order of hits (date: newest first).")
@click.option("--explain", is_flag=True, help="Show how much each field and term added to each hit's score.")
@click.option("--like", metavar="ARTICLE_ID", default=None, help="Articles similar to this one (instead of a query).")
@click.option("--exact", is_flag=True, help="Search the words as typed: no did-you-mean correction.")
def main(query: tuple[str, ...], limit: int | None, context: int | None, as_json: bool, index: Path | None,
         field: str | None, color: bool | None, since: str | None, until: str | None, source: str | None,
         category: str | None, sort: str, explain: bool, like: str | None, exact: bool) -> None:
    """Search the article index for QUERY: all words must match (else any word); "phrases", field:word,
    AND/OR/NOT, -word, word~ (fuzzy) and prefix* work. A word the index lacks is replaced by a close,
    common one and the output says so (--exact turns that off).

    With no index yet, the first run builds one from the configured corpus (the bundled corpus/ by default).
    """
    from query.render import render_json, render_text
    from query.searcher import Searcher

    from indexer.progress import ProgressBar

    try:
        config = load_config()
        progress = ProgressBar("building the index", enabled=True)
        searcher_config = config.with_(index_dir=index)
        if index is None and not _index_exists(searcher_config.index_dir):
            click.echo(f"No index at {searcher_config.index_dir} yet; building one from {', '.join(map(str, config.corpus_dirs))} ...", err=True)
        with Searcher(config=searcher_config, build_if_missing=index is None, progress=progress) as searcher:
            progress.finish()
            if not query and like is None:
                raise QueryError("give a QUERY to search for, or --like ARTICLE_ID")
            results = searcher.search(
                " ".join(query), limit=limit, context=context, field=field, since=since, until=until, source=source,
                category=category, sort=sort, explain=explain, like=like, exact=exact,
            )
            if searcher.warning:
                click.echo(f"search: warning: {searcher.warning}", err=True)
    except QueryError as exc:
        raise SystemExit(_fail(f"bad query: {exc}"))
    except ArticleSearchError as exc:
        raise SystemExit(_fail(str(exc)))
    use_color = sys.stdout.isatty() if color is None else color
    click.echo(render_json(results) if as_json else render_text(results, use_color), color=use_color)
    raise SystemExit(EXIT_HITS if results.hits else EXIT_NO_HITS)


def _index_exists(index_dir: Path) -> bool:
    from indexer.generations import IndexStore

    return IndexStore(index_dir).exists()


def _fail(message: str) -> int:
    click.echo(f"search: {message}", err=True)
    return EXIT_ERROR
