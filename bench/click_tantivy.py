"""The floor for a cold `search`: a bare click + tantivy script that opens the raw-tantivy index of
bench/systems.py, queries it, cuts a snippet per hit and prints, as `search` does with its own index.

Usage: python bench/click_tantivy.py INDEX_DIR QUERY
"""
from __future__ import annotations

import click


@click.command()
@click.argument("index_dir")
@click.argument("query")
@click.option("--limit", default=10, show_default=True)
def main(index_dir: str, query: str, limit: int) -> None:
    """Search a raw tantivy index and print each hit's headline and snippet."""
    import tantivy

    index = tantivy.Index.open(index_dir)
    searcher = index.searcher()
    parts = query.split('"')
    words = [p for i, p in enumerate(parts) for p in ([f'"{p}"'] if i % 2 else p.split()) if p.strip('" ')]
    parsed, _errors = index.parse_query_lenient(" ".join(f"+{w}" for w in words), ["headline", "text"], field_boosts={"headline": 3.0})
    snippets = tantivy.SnippetGenerator.create(searcher, parsed, index.schema, "text")
    for rank, (_score, address) in enumerate(searcher.search(parsed, limit).hits, 1):
        doc = searcher.doc(address)
        click.echo(f"{rank}. {doc['headline'][0]}\n   {snippets.snippet_from_doc(doc).fragment()}")


if __name__ == "__main__":
    main()
