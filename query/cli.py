"""`search`: the command-line face of `query.Searcher`; options, one call, printing, exit codes."""
from __future__ import annotations

import json
import os
import sys
from itertools import islice
from pathlib import Path
from typing import Mapping

import click

from indexer.config import MAX_LIMIT, builds_on_first_use, load_config
from indexer.errors import ArticleSearchError, QueryError
from indexer.models import SECTIONS as SEARCH_FIELDS

EXIT_HITS, EXIT_NO_HITS, EXIT_ERROR = 0, 1, 2
COLOR_MODES = ("auto", "always", "never")


class SearchCommand(click.Command):
    """`search` reads a word starting with '-' as a query word unless it is one of its options.

    Click alone reads `search -football` as the short options -f -o -o ... and fails. Here only
    the command's own options (and `-nN`) are options; any other word starting with a single '-'
    is a query word, so `search -football` and `search Blair -Iraq` search. A word starting with
    '--' that is no option stays an error (a mistyped --jsno is not searched for), and `--` ends
    the options as usual.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        options, words = self._split(ctx, args)
        try:
            return super().parse_args(ctx, [*options, "--", *words])
        except click.UsageError as exc:
            if "--json" in options and not ctx.resilient_parsing:
                _print_json_error(exc.format_message())
            raise

    def _split(self, ctx: click.Context, args: list[str]) -> tuple[list[str], list[str]]:
        """The arguments as (options with their values, query words), each in the order given."""
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    takes_value[name] = not (param.is_flag or param.count)
        options: list[str] = []
        words: list[str] = []
        rest = iter(args)
        for arg in rest:
            name = arg.split("=", 1)[0] if arg.startswith("--") else arg
            if arg == "--":
                words += rest
            elif name in takes_value:
                options.append(arg)
                if takes_value[name] and "=" not in arg:
                    options += islice(rest, 1)  # its value, even one starting with '-'
            elif arg.startswith("--") or (takes_value.get(arg[:2]) and arg[2:].isdigit()):
                options.append(arg)  # -n5; or an unknown --option for click to report
            else:
                words.append(arg)
        return options, words


@click.command(cls=SearchCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("query", nargs=-1, required=False)
@click.option("-n", "--limit", type=click.IntRange(1, MAX_LIMIT), default=None, help="Number of hits (default 10, or limit in search.toml).")
@click.option("--context", type=click.IntRange(0, 20), default=None, help="Sentences of context on each side of a snippet (default 1).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text (errors too: {\"error\": ...}).")
@click.option("--index", type=click.Path(file_okay=False, path_type=Path), default=None, help="Index folder (default $ARTICLE_SEARCH_INDEX or ~/.local/share/article-search/index).")
@click.option("--field", type=click.Choice(SEARCH_FIELDS), default=None, help="Search one field only.")
@click.option("--color", "color", type=click.Choice(COLOR_MODES), default="auto", show_default=True,
              help="Colour the output: auto (on a terminal, unless $NO_COLOR is set), always or never.")
@click.option("--no-color", "no_color", is_flag=True, hidden=True, help="Same as --color=never.")
@click.option("--no-pager", "no_pager", is_flag=True, help="Print everything at once; by default long results on a terminal go through $PAGER (less).")
@click.option("--since", metavar="DATE", default=None, help="Only articles dated on or after DATE (YYYY-MM-DD, YYYY-MM or YYYY).")
@click.option("--until", metavar="DATE", default=None, help="Only articles dated on or before DATE (inclusive).")
@click.option("--source", metavar="NAME", default=None, help="Only articles from this source.")
@click.option("--category", metavar="NAME", default=None, help="Only articles in this category.")
@click.option("--author", metavar="NAME", default=None, help="Only articles by this author (the whole name, any case).")
@click.option("--sort", type=click.Choice(("relevance", "date")), default="relevance", show_default=True, help="Order of hits (date: newest first).")
@click.option("--explain", is_flag=True, help="Show how much each field and term added to each hit's score.")
@click.option("--like", metavar="ARTICLE_ID", default=None, help="Articles similar to this one (the id under each hit's headline).")
@click.option("--exact", is_flag=True, help="Search the words as typed: no did-you-mean correction.")
@click.option("--facets", "facet_names", metavar="NAMES", default=None,
              help="Also count the matching articles per category, source, year or author (comma-separated: --facets category,year).")
@click.version_option(package_name="article-search", message="%(prog)s %(version)s")
@click.pass_context
def main(ctx: click.Context, query: tuple[str, ...], limit: int | None, context: int | None, as_json: bool,
         index: Path | None, field: str | None, color: str, no_color: bool, no_pager: bool, since: str | None,
         until: str | None, source: str | None, category: str | None, author: str | None, sort: str, explain: bool,
         like: str | None, exact: bool, facet_names: str | None) -> None:
    """Search the article index for QUERY: all words must match (else any word); "phrases", field:word,
    AND/OR/NOT, -word, word~ (fuzzy) and prefix* work. A word the index lacks is replaced by a close,
    common one and the output says so (--exact turns that off). A word starting with - is a query word
    unless it is one of the options below (search -football rugby).

    With no index yet, the first run builds the default one from the configured corpus (the bundled
    sample corpus unless ARTICLE_SEARCH_CORPUS or search.toml names one).
    """
    if not query and like is None:
        if as_json:
            _print_json_error("give a QUERY to search for, or --like ARTICLE_ID")
        raise click.UsageError("give a QUERY to search for, or --like ARTICLE_ID", ctx)
    from query.render import render_json, render_text
    from query.searcher import Searcher, _filters

    filtered = any(value is not None for value in (since, until, source, category, author))
    try:
        _filters(None, since, until, source, category, author)  # a bad date is a bad option, before any index is opened
    except QueryError as exc:
        raise SystemExit(_fail(f"bad option: {exc}", as_json))
    text = " ".join(query)
    try:
        config = load_config().with_(index_dir=index)
        build = index is None and builds_on_first_use(config)
        progress = None
        if build and not _index_exists(config.index_dir):
            from indexer.progress import ProgressBar

            corpus = ", ".join(map(str, config.corpus_dirs))
            click.echo(f"No index at {config.index_dir} yet; building one from {corpus} ...", err=True)
            progress = ProgressBar("building the index", enabled=True)
        try:
            searcher = Searcher(config=config, build_if_missing=build, progress=progress)
        finally:
            if progress is not None:
                progress.finish()
        with searcher:
            results = searcher.search(
                text, limit=limit, context=context, field=field, since=since, until=until, source=source,
                category=category, sort=sort, explain=explain, like=like, exact=exact, facets=_facets(facet_names),
                author=author,
            )
            unfiltered = 0  # when filters removed every hit, how many the words match without them
            if filtered and not results.total:
                unfiltered = searcher.search(text, limit=1, field=field, like=like, exact=exact).total
            if searcher.warning:
                click.echo(f"search: warning: {searcher.warning}", err=True)
    except QueryError as exc:
        raise SystemExit(_fail(f"bad query: {exc}", as_json))
    except ArticleSearchError as exc:
        raise SystemExit(_fail(str(exc), as_json))
    on_terminal = sys.stdout.isatty()
    use_color = _use_color("never" if no_color else color, on_terminal, os.environ)
    if as_json:
        click.echo(render_json(results))
    else:
        width = _terminal_size().columns if on_terminal else None
        _show(render_text(results, use_color, width, unfiltered), use_color, on_terminal and not no_pager)
    raise SystemExit(EXIT_HITS if results.hits else EXIT_NO_HITS)


def _facets(names: str | None) -> tuple[str, ...]:
    """--facets category,year as the names (checked by the Searcher: an unknown one is a bad query)."""
    return tuple(name.strip() for name in names.split(",") if name.strip()) if names else ()


def _use_color(mode: str, on_terminal: bool, env: Mapping[str, str]) -> bool:
    """--color always/never decide; auto colours a terminal unless $NO_COLOR is set (no-color.org)
    or the terminal is dumb."""
    if mode != "auto":
        return mode == "always"
    return on_terminal and not env.get("NO_COLOR") and env.get("TERM") != "dumb"


def _terminal_size() -> os.terminal_size:
    """shutil's terminal size ($COLUMNS and $LINES first), imported only when on a terminal: shutil
    imports bz2 and lzma, a few milliseconds of every `search` piped elsewhere."""
    import shutil

    return shutil.get_terminal_size()


def _show(text: str, color: bool, may_page: bool) -> None:
    """Print the text, through the pager when it is longer than the terminal (as git does): $PAGER,
    else less (with -R for the colours); PAGER=cat or an empty PAGER turns paging off."""
    pager = os.environ.get("PAGER")
    if may_page and text.count("\n") + 1 >= _terminal_size().lines and (pager is None or pager.strip() not in ("", "cat")):
        click.echo_via_pager(text + "\n", color=color)
    else:
        click.echo(text, color=color)


def _index_exists(index_dir: Path) -> bool:
    from indexer.generations import IndexStore

    return IndexStore(index_dir).exists()


def _print_json_error(message: str) -> None:
    """With --json, an error is also one JSON object on stdout, for the program reading it."""
    click.echo(json.dumps({"error": message}, ensure_ascii=False))


def _fail(message: str, as_json: bool = False) -> int:
    """One line on stderr (and the JSON error object with --json); the exit code for errors."""
    if as_json:
        _print_json_error(message)
    click.echo(f"search: {message}", err=True)
    return EXIT_ERROR
