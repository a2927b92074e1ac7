"""Search an index folder in a loop until a stop file appears; print what happened as JSON.

After every search it writes the generations searched so far into READY_FILE.

Run by the tests in a separate process, to search while another process rebuilds.
usage: python search_loop.py INDEX_DIR STOP_FILE READY_FILE
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from indexer.config import Config
from query.searcher import Searcher

QUERIES = ("Jalalabad checkpoints", '"bank of england"', "gibraltar OR yukos", "headline:election", "econom*")
MAX_SECONDS = 240


def main() -> None:
    index_dir, stop, ready = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    searches, errors, generations, totals = 0, [], set(), set()
    started = time.monotonic()
    with Searcher(index_dir, Config(index_dir=index_dir)) as searcher:
        while not stop.exists() and time.monotonic() - started < MAX_SECONDS:
            query = QUERIES[searches % len(QUERIES)]
            try:
                results = searcher.search(query, limit=5)
                generations.add(results.generation)
                if query == QUERIES[0]:
                    totals.add(results.total)
                if not results.hits:
                    errors.append(f"{query}: no hits")
            except Exception as exc:  # everything counts as a failed search here
                errors.append(f"{query}: {type(exc).__name__}: {exc}")
            searches += 1
            ready.write_text(" ".join(sorted(generations)))  # what was searched so far
    print(json.dumps({"searches": searches, "errors": errors[:20], "error_count": len(errors),
                      "generations": sorted(generations)}))


if __name__ == "__main__":
    main()
