"""Time every hostile query of tests/hostile on an existing index: each must answer (or fail in one line)
within a second. Prints a markdown table.

    python bench/hostile_queries.py INDEX_DIR
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "hostile")]

from indexer.errors import ArticleSearchError  # noqa: E402
from query import Searcher  # noqa: E402
from test_hostile_queries import QUERIES  # noqa: E402


def main(index: Path) -> None:
    with Searcher(index) as searcher:
        searcher.search("warm up")
        print("| case | outcome | ms |\n|---|---|---|")
        slowest = 0.0
        for case, query, _ in QUERIES:
            started = time.perf_counter()
            try:
                outcome = f"{searcher.search(query).total} hits"
            except ArticleSearchError as exc:
                outcome = f"error: {str(exc)[:60]}"
            elapsed = (time.perf_counter() - started) * 1000
            slowest = max(slowest, elapsed)
            print(f"| {case} | {outcome} | {elapsed:.0f} |")
        print(f"\nslowest: {slowest:.0f} ms over {len(QUERIES)} queries")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
