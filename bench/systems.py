"""The systems compared by bench/run.py, each run in its own process.

Usage (run.py does this):
  python bench/systems.py build SYSTEM CORPUS_DIR INDEX_DIR    index every JSONL file of CORPUS_DIR
  python bench/systems.py warm SYSTEM INDEX_DIR QUERIES_FILE   print latencies (ms) of each query, JSON
  python bench/systems.py query SYSTEM INDEX_DIR QUERY         one search from a fresh process (cold)

Every system returns 10 hits with a snippet per hit where it can make one (bm25s cannot). Raw
systems index headline and text (bullets + body) with their own stemming analyzers and default
settings, weight the headline 3x where they can, and require all words (AND) where they can.
The project itself is driven through its installed commands (build, cold) and its API (warm).
"""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

# project-tantivy-py: the tantivy engine with the native analyzer turned off (ARTICLE_SEARCH_NATIVE=off)
SYSTEMS = ("project-whoosh", "project-tantivy", "project-tantivy-py", "raw-tantivy", "sqlite-fts5", "raw-whoosh", "bm25s")
LIMIT = 10
_QUERY_PART_RE = re.compile(r'"[^"]*"|\S+')


def records(corpus: Path) -> Iterator[tuple[str, str, str]]:
    """(id, headline, text) of every JSONL record, as a raw system would read them."""
    for path in sorted(corpus.rglob("*.jsonl")):
        with open(path, encoding="utf-8") as stream:
            for line in stream:
                record = json.loads(line)
                bullets = record.get("bullets") or record.get("highlights") or []
                text = "\n\n".join([*bullets, record.get("body") or ""])
                yield record["id"], record.get("headline") or "", text


def query_parts(query: str) -> list[str]:
    """Words and "quoted phrases" of a bench query (the bench uses no other syntax)."""
    return _QUERY_PART_RE.findall(query)


# --- the project -------------------------------------------------------------------------------

def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def project_build_command(engine: str, corpus: Path, index: Path) -> list[str]:
    return [_bin("search-index"), "build", str(corpus), "--index", str(index), "--engine", engine, "--quiet"]


def project_query_command(index: Path, query: str) -> list[str]:
    return [_bin("search"), query, "--index", str(index)]


def project_searcher(index: Path) -> Callable[[str], object]:
    from query import Searcher

    searcher = Searcher(index)
    return lambda q: searcher.search(q, limit=LIMIT)


# --- raw tantivy -------------------------------------------------------------------------------

def tantivy_build(corpus: Path, index: Path) -> None:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("headline", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("text", stored=True, tokenizer_name="en_stem")
    index.mkdir(parents=True, exist_ok=True)
    ix = tantivy.Index(builder.build(), path=str(index))
    writer = ix.writer(heap_size=256_000_000)
    for doc_id, headline, text in records(corpus):
        writer.add_document(tantivy.Document(id=doc_id, headline=headline, text=text))
    writer.commit()
    writer.wait_merging_threads()


def tantivy_searcher(index: Path) -> Callable[[str], object]:
    import tantivy

    ix = tantivy.Index.open(str(index))
    searcher = ix.searcher()

    def run(query: str) -> list[tuple[str, str]]:
        required = " ".join(f"+{p}" for p in query_parts(query))
        q, _errors = ix.parse_query_lenient(required, ["headline", "text"], field_boosts={"headline": 3.0})
        snippets = tantivy.SnippetGenerator.create(searcher, q, ix.schema, "text")
        hits = []
        for _score, address in searcher.search(q, LIMIT).hits:
            doc = searcher.doc(address)
            hits.append((doc["headline"][0], snippets.snippet_from_doc(doc).to_html()))
        return hits

    return run


# --- SQLite FTS5 --------------------------------------------------------------------------------

def fts5_build(corpus: Path, index: Path) -> None:
    import sqlite3

    index.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(index / "fts.db")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, headline, text, tokenize='porter unicode61')")
    with db:
        db.executemany("INSERT INTO docs VALUES (?, ?, ?)", records(corpus))
    with db:
        db.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    db.close()


def fts5_searcher(index: Path) -> Callable[[str], object]:
    import sqlite3

    db = sqlite3.connect(index / "fts.db")
    sql = ("SELECT id, headline, snippet(docs, 2, '[', ']', '…', 20) FROM docs WHERE docs MATCH ? "
           "ORDER BY bm25(docs, 0.0, 3.0, 1.0) LIMIT ?")

    def run(query: str) -> list[tuple[str, str, str]]:
        parts = [p if p.startswith('"') else '"' + p.replace('"', "") + '"' for p in query_parts(query)]
        return db.execute(sql, (" ".join(parts), LIMIT)).fetchall()

    return run


# --- raw whoosh (default settings) -------------------------------------------------------------

def whoosh_build(corpus: Path, index: Path) -> None:
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, TEXT, Schema

    index.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(index), Schema(id=ID(stored=True), headline=TEXT(stored=True), text=TEXT(stored=True)))
    writer = ix.writer()
    for doc_id, headline, text in records(corpus):
        writer.add_document(id=doc_id, headline=headline, text=text)
    writer.commit()


def whoosh_searcher(index: Path) -> Callable[[str], object]:
    from whoosh import index as whoosh_index
    from whoosh.qparser import MultifieldParser

    ix = whoosh_index.open_dir(str(index))
    searcher = ix.searcher()
    parser = MultifieldParser(["headline", "text"], ix.schema, fieldboosts={"headline": 3.0})

    def run(query: str) -> list[tuple[str, str]]:
        return [(hit["headline"], hit.highlights("text")) for hit in searcher.search(parser.parse(query), limit=LIMIT)]

    return run


# --- bm25s ---------------------------------------------------------------------------------------

def bm25s_build(corpus: Path, index: Path) -> None:
    import bm25s
    import Stemmer

    ids, texts = [], []
    for doc_id, headline, text in records(corpus):
        ids.append({"id": doc_id, "headline": headline})
        texts.append(f"{headline}\n{text}")
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False)
    del texts
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    retriever.save(str(index), corpus=ids)


def bm25s_searcher(index: Path) -> Callable[[str], object]:
    import bm25s
    import Stemmer

    retriever = bm25s.BM25.load(str(index), load_corpus=True, mmap=True)
    stemmer = Stemmer.Stemmer("english")

    def run(query: str) -> list[object]:
        tokens = bm25s.tokenize([query.replace('"', "")], stopwords="en", stemmer=stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        docs, _scores = retriever.retrieve(tokens, k=min(LIMIT, len(retriever.corpus)), show_progress=False)
        return list(docs[0])

    return run


BUILDERS: dict[str, Callable[[Path, Path], None]] = {
    "raw-tantivy": tantivy_build, "sqlite-fts5": fts5_build, "raw-whoosh": whoosh_build, "bm25s": bm25s_build,
}
SEARCHERS: dict[str, Callable[[Path], Callable[[str], object]]] = {
    "project-whoosh": project_searcher, "project-tantivy": project_searcher, "project-tantivy-py": project_searcher,
    "raw-tantivy": tantivy_searcher,
    "sqlite-fts5": fts5_searcher, "raw-whoosh": whoosh_searcher, "bm25s": bm25s_searcher,
}


def print_hits(hits: object) -> None:
    """What a cold query prints: the project prints its own text; raw systems print their hits."""
    if hasattr(hits, "hits"):
        from query.render import render_text

        print(render_text(hits, False))  # type: ignore[arg-type]
    else:
        for hit in hits:  # type: ignore[attr-defined]
            print(hit)


def main(argv: list[str]) -> None:
    action, system = argv[0], argv[1]
    if action == "build":
        BUILDERS[system](Path(argv[2]), Path(argv[3]))
    elif action == "warm":
        run = SEARCHERS[system](Path(argv[2]))
        queries = [q for q in Path(argv[3]).read_text(encoding="utf-8").splitlines() if q.strip()]
        for query in queries:  # warm-up pass: caches, lazy imports, page cache
            run(query)
        latencies = []
        for query in queries:
            started = time.perf_counter()
            run(query)
            latencies.append((time.perf_counter() - started) * 1000)
        print(json.dumps(latencies))
    elif action == "query":
        print_hits(SEARCHERS[system](Path(argv[2]))(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
