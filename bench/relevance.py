"""Relevance of the project's ranking beside a plain one-field BM25 baseline, in one run.

    python bench/relevance.py [--cache DIR] [--known FILE] [--beir DIR] [--latency INDEX_DIR]

Known-item queries (query TAB expected ids) over BBC + the bundled corpus: MRR@10 and hits@1.
A BEIR collection (corpus.jsonl, queries.jsonl, qrels/*.tsv), title as headline and text as body:
nDCG@10 and Recall@100. The project runs with its default configuration (plus any environment
settings such as ARTICLE_SEARCH_WEIGHTS); with the semantic model installed (pip install -e
'.[semantic]' && search-index fetch-model) that includes semantic ranking, and a second row shows
the same index searched with it off. The baseline is bm25s over headline and body in one field
with the same analyzer. Needs the bench extra: pip install -e '.[bench]'.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from indexer.analysis import terms  # noqa: E402
from indexer.build import build_index  # noqa: E402
from indexer.config import BUNDLED_CORPUS, load_config  # noqa: E402
from indexer.errors import QueryError  # noqa: E402
from indexer.generations import IndexStore  # noqa: E402
from indexer.models import Article  # noqa: E402
from indexer.parallel import read_files  # noqa: E402
from indexer.vectors import semantic_enabled  # noqa: E402
from indexer.readers import find_files  # noqa: E402
from query.searcher import Searcher  # noqa: E402

SHARED = PROJECT_ROOT.parent / "shared"
Ranker = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class Collection:
    """Queries with graded relevant ids, and where the documents come from."""

    name: str
    corpus_dirs: tuple[Path, ...]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def known_items(path: Path) -> Collection:
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, targets = line.split("\t")
            key = str(len(queries))
            queries[key] = query
            qrels[key] = {t: 1 for t in targets.split(",")}
    return Collection(path.stem, (BUNDLED_CORPUS, SHARED / "corpora" / "bbc"), queries, qrels)


def beir(directory: Path, workdir: Path) -> Collection:
    """A BEIR collection; its corpus is rewritten as project JSONL (id, headline, body) in `workdir`."""
    corpus_dir = workdir / f"{directory.name}-corpus"
    target = corpus_dir / "corpus.jsonl"
    if not target.exists():
        corpus_dir.mkdir(parents=True, exist_ok=True)
        with open(directory / "corpus.jsonl", encoding="utf-8") as source, open(target, "w", encoding="utf-8") as out:
            for line in source:
                doc = json.loads(line)
                out.write(json.dumps({"id": doc["_id"], "headline": doc.get("title", ""), "body": doc.get("text", "")}) + "\n")
    qrels: dict[str, dict[str, int]] = {}
    for qrel_file in sorted((directory / "qrels").glob("*.tsv")):
        for line in qrel_file.read_text(encoding="utf-8").splitlines()[1:]:
            qid, doc_id, score = line.split("\t")
            if int(score) > 0:
                qrels.setdefault(qid, {})[doc_id] = int(score)
    queries = {}
    with open(directory / "queries.jsonl", encoding="utf-8") as stream:
        for line in stream:
            query = json.loads(line)
            if query["_id"] in qrels:
                queries[query["_id"]] = query["text"]
    return Collection(directory.name, (corpus_dir,), queries, qrels)


# --- metrics ------------------------------------------------------------------------------------

def reciprocal_rank(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    return next((1.0 / rank for rank, doc in enumerate(ranked[:k], 1) if doc in relevant), 0.0)


def ndcg(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    gain = sum(relevant.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(ranked[:k], 1))
    ideal = sum(g / math.log2(rank + 1) for rank, g in enumerate(sorted(relevant.values(), reverse=True)[:k], 1))
    return gain / ideal if ideal else 0.0


def recall(ranked: Sequence[str], relevant: dict[str, int], k: int = 100) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def evaluate(collection: Collection, ranker: Ranker) -> dict[str, float]:
    """Mean metrics over the queries, and mean latency in milliseconds."""
    sums = {"MRR@10": 0.0, "hits@1": 0.0, "nDCG@10": 0.0, "Recall@100": 0.0}
    started = time.perf_counter()
    for qid, query in collection.queries.items():
        ranked = ranker(query, 100)
        relevant = collection.qrels[qid]
        sums["MRR@10"] += reciprocal_rank(ranked, relevant)
        sums["hits@1"] += 1.0 if ranked[:1] and ranked[0] in relevant else 0.0
        sums["nDCG@10"] += ndcg(ranked, relevant)
        sums["Recall@100"] += recall(ranked, relevant)
    count = len(collection.queries)
    result = {name: value / count for name, value in sums.items()}
    result["ms/query"] = 1000 * (time.perf_counter() - started) / count
    return result


# --- systems ------------------------------------------------------------------------------------

def project_ranker(collection: Collection, cache: Path, semantic: str | None = None) -> Ranker:
    """The project's Searcher on an index of the collection (built once into `cache` with the default
    configuration); `semantic` overrides the setting for searching only."""
    index_dir = cache / f"index-{collection.name}"
    config = load_config().with_(index_dir=index_dir, corpus_dirs=collection.corpus_dirs)
    if not IndexStore(index_dir).exists():
        build_index(config=config)
    searcher = Searcher(config=config.with_(semantic=semantic))

    def rank(query: str, limit: int) -> list[str]:
        try:
            return [hit.id for hit in searcher.search(query, limit=limit, snippets=0).hits]
        except QueryError:
            return []

    return rank


def bm25s_ranker(collection: Collection) -> Ranker:
    """bm25s (Lucene BM25, k1=1.2, b=0.75) over headline, bullets, body and captions as one field."""
    import bm25s

    config = load_config().with_(corpus_dirs=collection.corpus_dirs)
    files, _ = find_files(config.corpus_dirs)
    articles = [i for _, _, items in read_files(files, config.max_article_bytes) for i in items if isinstance(i, Article)]
    ids = [a.id for a in articles]
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index(bm25s.tokenization.Tokenized(*_vocab_ids(_article_terms(a) for a in articles)), show_progress=False)
    vocab = retriever.vocab_dict

    def rank(query: str, limit: int) -> list[str]:
        query_ids = [vocab[t] for t in terms(query) if t in vocab]
        if not query_ids:
            return []
        docs, _ = retriever.retrieve([query_ids], k=min(limit, len(ids)), show_progress=False)
        return [ids[i] for i in docs[0]]

    return rank


def _article_terms(article: Article) -> list[str]:
    return terms(" ".join((article.headline, *article.bullets, *article.body, *article.captions)))


def _vocab_ids(documents: Iterable[list[str]]) -> tuple[list[list[int]], dict[str, int]]:
    vocab: dict[str, int] = {}
    return [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in documents], vocab


def latency(index_dir: Path, queries: list[str]) -> None:
    """Per-query milliseconds of Searcher.search on an existing index: first run, then warm."""
    searcher = Searcher(config=load_config().with_(index_dir=index_dir))
    searcher.refresh()
    print(f"latency on {index_dir} ({searcher._index.doc_count() if searcher._index else 0} articles), ms:")
    print(f"{'mode':<34} {'first':>8} {'warm p50':>9} {'warm max':>9}")
    for label, options in (("ranking only (no snippets)", {"snippets": 0}), ("default (3 snippets)", {}),
                           ("--sort date", {"snippets": 0, "sort": "date"}), ("--explain", {"snippets": 0, "explain": True})):
        runs: list[list[float]] = [[], []]
        for run in runs:
            for query in queries:
                started = time.perf_counter()
                searcher.search(query, **options)
                run.append(1000 * (time.perf_counter() - started))
        warm = sorted(runs[1])
        print(f"{label:<34} {sum(runs[0]) / len(queries):>8.1f} {warm[len(warm) // 2]:>9.1f} {warm[-1]:>9.1f}")
        searcher.close()  # the next mode starts cold again (postings cache dropped)
        searcher.refresh()


# --- main ---------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--known", type=Path, default=SHARED / "eval" / "known_items_dev.tsv")
    parser.add_argument("--beir", type=Path, default=SHARED / "eval" / "scifact-train")
    parser.add_argument("--cache", type=Path, default=None, help="keep built indexes here between runs")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bm25s baseline")
    parser.add_argument("--latency", type=Path, default=None, metavar="INDEX_DIR",
                        help="only time the known-item queries on this existing index")
    args = parser.parse_args()
    if args.latency:
        latency(args.latency, list(known_items(args.known).queries.values()))
        return
    with tempfile.TemporaryDirectory(prefix="relevance-") as scratch:
        cache = args.cache or Path(scratch)
        cache.mkdir(parents=True, exist_ok=True)
        collections = [(known_items(args.known), ("MRR@10", "hits@1")), (beir(args.beir, cache), ("nDCG@10", "Recall@100"))]
        rows = []
        for collection, metrics in collections:
            systems = [("project (default config)", project_ranker(collection, cache))]
            if semantic_enabled(load_config()):  # the same index, searched without the semantic ranking
                systems.append(("project, semantic off", project_ranker(collection, cache, "off")))
            if not args.no_baseline:
                systems.append(("bm25s one field", bm25s_ranker(collection)))
            for name, ranker in systems:
                result = evaluate(collection, ranker)
                rows.append((collection.name, len(collection.queries), name,
                             "  ".join(f"{m} {result[m]:.3f}" for m in metrics), f"{result['ms/query']:.1f}"))
    print(f"{'collection':<20} {'queries':>7}  {'system':<26} {'metrics':<34} ms/query")
    for row in rows:
        print(f"{row[0]:<20} {row[1]:>7}  {row[2]:<26} {row[3]:<34} {row[4]:>8}")
    print("(latency is noisy on a shared machine; it includes snippet-free result building)")


if __name__ == "__main__":
    main()
