"""Relevance of the project's ranking on every engine beside two baselines, in one run.

    python bench/relevance.py [--cache DIR] [--engines whoosh,tantivy] [--opensearch-url URL]
                              [--model-dir DIR] [--known FILE] [--beir DIR] [--markdown] [--latency INDEX_DIR]

Known-item queries (query TAB expected ids) over BBC + the bundled corpus: MRR@10 and hits@1.
A BEIR collection (corpus.jsonl, queries.jsonl, qrels/*.tsv), title as headline and text as body:
nDCG@10 and Recall@100. The project runs with its default configuration (plus any environment
settings such as ARTICLE_SEARCH_WEIGHTS) on each engine: whoosh and tantivy, and OpenSearch when
`--opensearch-url` (or ARTICLE_SEARCH_OPENSEARCH_URL) names a cluster that answers. Each engine is
searched lexically and, when the semantic model is there (pip install -e '.[semantic]' &&
search-index fetch-model; or --model-dir), with semantic ranking; the article vectors are embedded
once per collection and given to every engine's index (they do not depend on the engine).
Baselines: bm25s over headline and body in one field with the project's analyzer, and raw tantivy
(its own en_stem analyzer, headline and body fields, its query parser over the plain words).
Needs the bench extra: pip install -e '.[bench]'.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
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
from indexer.config import BUNDLED_CORPUS, Config, load_config  # noqa: E402
from indexer.embeddings import model_missing  # noqa: E402
from indexer.errors import QueryError  # noqa: E402
from indexer.generations import VECTOR_IDS, VECTORS, IndexStore  # noqa: E402
from indexer.models import Article  # noqa: E402
from indexer.parallel import read_files  # noqa: E402
from indexer.vectors import semantic_enabled  # noqa: E402
from indexer.readers import find_files, folder_labels  # noqa: E402
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
    """Known items over BBC and the bundled corpus: ids start with the BBC folder's label."""
    folders = (BUNDLED_CORPUS, SHARED / "corpora" / "bbc")
    label = folder_labels(folders)[folders[1]]
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, targets = line.split("\t")
            key = str(len(queries))
            queries[key] = query
            qrels[key] = {f"{label}/{t}" if label else t: 1 for t in targets.split(",")}
    return Collection(path.stem, folders, queries, qrels)


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

def project_config(collection: Collection, cache: Path, engine: str, base: Config) -> Config:
    """The default configuration on an index of the collection in `cache`, one per engine."""
    return base.with_(index_dir=cache / f"index-{collection.name}-{engine}", corpus_dirs=collection.corpus_dirs,
                      engine=engine, opensearch_alias=f"relevance-{collection.name.lower()}")


def build_once(config: Config, vectors_from: Path | None) -> None:
    """Build the index unless `cache` has it; with `vectors_from` (another engine's index of the same
    collection), searched semantically with the vectors embedded there instead of embedding again."""
    store = IndexStore(config.index_dir)
    if not store.exists():
        build_index(config=config.with_(semantic="off") if vectors_from else config)
    if vectors_from:
        source, target = IndexStore(vectors_from).current().path, store.current().path
        for name in (VECTORS, VECTOR_IDS):
            if (source / name).exists() and not (target / name).exists():
                shutil.copyfile(source / name, target / name)


def project_ranker(config: Config, semantic: str) -> Ranker:
    """The project's Searcher on the index `config` names; `semantic` ("on" / "off") for searching."""
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

    articles = _articles(collection)
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


def raw_tantivy_ranker(collection: Collection) -> Ranker:
    """tantivy as it comes: its en_stem analyzer on headline and body (bullets and captions with the
    body), its query parser over the query's plain words (any of them), BM25 per field added up."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    for name in ("headline", "body"):
        builder.add_text_field(name, tokenizer_name="en_stem")
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    index = tantivy.Index(builder.build())
    writer = index.writer(heap_size=128 * 1024 * 1024)
    for article in _articles(collection):
        body = "\n".join((*article.bullets, *article.body, *article.captions))
        writer.add_document(tantivy.Document(id=article.id, headline=article.headline, body=body))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()

    def rank(query: str, limit: int) -> list[str]:
        words = " ".join(re.findall(r"\w+", query))
        if not words:
            return []
        parsed, _ = index.parse_query_lenient(words, ["headline", "body"])
        return [searcher.doc(address)["id"][0] for _, address in searcher.search(parsed, limit).hits]

    return rank


def _articles(collection: Collection) -> list[Article]:
    config = load_config().with_(corpus_dirs=collection.corpus_dirs)
    files, _ = find_files(config.corpus_dirs)
    return [i for _, _, items in read_files(files, config.max_article_bytes) for i in items if isinstance(i, Article)]


def _article_terms(article: Article) -> list[str]:
    return terms(" ".join((article.headline, *article.bullets, *article.body, *article.captions)))


def _vocab_ids(documents: Iterable[list[str]]) -> tuple[list[list[int]], dict[str, int]]:
    vocab: dict[str, int] = {}
    return [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in documents], vocab


def latency(index_dir: Path, queries: list[str]) -> None:
    """Per-query milliseconds of Searcher.search on an existing index: first run, then warm."""
    searcher = Searcher(config=load_config().with_(index_dir=index_dir))
    searcher.refresh()
    print(f"latency on {index_dir} ({searcher.serving().articles} articles), ms:")
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
    parser.add_argument("--engines", default="whoosh,tantivy", help="comma-separated; opensearch joins with --opensearch-url")
    parser.add_argument("--opensearch-url", default=os.environ.get("ARTICLE_SEARCH_OPENSEARCH_URL"))
    parser.add_argument("--model-dir", type=Path, default=None, help="the semantic model (default: the configured one, "
                        "else .cache/models/bge-small-en-v1.5-q in the project)")
    parser.add_argument("--no-semantic", action="store_true", help="lexical rows only")
    parser.add_argument("--no-baseline", action="store_true", help="skip bm25s and raw tantivy")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--latency", type=Path, default=None, metavar="INDEX_DIR",
                        help="only time the known-item queries on this existing index")
    args = parser.parse_args()
    if args.latency:
        latency(args.latency, list(known_items(args.known).queries.values()))
        return
    base = load_config()
    model_dir = args.model_dir or next((d for d in (base.model_dir, PROJECT_ROOT / ".cache" / "models" / "bge-small-en-v1.5-q")
                                        if model_missing(d) is None), base.model_dir)
    base = base.with_(model_dir=model_dir, semantic="off" if args.no_semantic else "auto", opensearch_url=args.opensearch_url)
    semantic = semantic_enabled(base)
    engines = [e for e in args.engines.split(",") if e] + (["opensearch"] if args.opensearch_url and "opensearch" not in args.engines else [])
    with tempfile.TemporaryDirectory(prefix="relevance-") as scratch:
        cache = args.cache or Path(scratch)
        cache.mkdir(parents=True, exist_ok=True)
        collections = [(known_items(args.known), ("MRR@10", "hits@1")), (beir(args.beir, cache), ("nDCG@10", "Recall@100"))]
        rows = []
        for collection, metrics in collections:
            systems: list[tuple[str, Callable[[], Ranker]]] = []
            first: Path | None = None  # the index whose vectors the other engines search with
            for engine in engines:
                config = project_config(collection, cache, engine, base)
                try:
                    build_once(config, first if semantic else None)
                except Exception as exc:  # an engine that is not installed, a cluster that does not answer
                    print(f"{engine}: skipped ({exc})", file=sys.stderr)
                    continue
                first = first or config.index_dir
                systems.append((f"{engine}", lambda c=config: project_ranker(c, "off")))
                if semantic:
                    systems.append((f"{engine} + semantic", lambda c=config: project_ranker(c, "on")))
            if not args.no_baseline:
                systems += [("bm25s one field", lambda: bm25s_ranker(collection)),
                            ("raw tantivy", lambda: raw_tantivy_ranker(collection))]
            for name, make in systems:
                result = evaluate(collection, make())
                rows.append((collection.name, len(collection.queries), name,
                             "  ".join(f"{m} {result[m]:.4f}" for m in metrics), f"{result['ms/query']:.1f}"))
                print(*rows[-1], sep="  ", file=sys.stderr, flush=True)
    if args.markdown:
        print("| collection | queries | system | metrics | ms/query |\n|---|---|---|---|---|")
        for row in rows:
            print(f"| {row[0]} | {row[1]} | {row[2]} | {row[3]} | {row[4]} |")
    else:
        print(f"{'collection':<20} {'queries':>7}  {'system':<26} {'metrics':<34} ms/query")
        for row in rows:
            print(f"{row[0]:<20} {row[1]:>7}  {row[2]:<26} {row[3]:<34} {row[4]:>8}")
    print("(latency is noisy on a shared machine; it includes snippet-free result building)")


if __name__ == "__main__":
    main()
