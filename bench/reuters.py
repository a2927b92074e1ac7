"""Convert Reuters-21578 (SGML, 22 files) into the project's JSONL format, one JSONL file per SGML file.

Usage: python bench/reuters.py SRC_DIR OUT_DIR
The project reads `.sgm` files itself (`indexer.reuters`); the benchmarks keep measuring JSONL, so each
article that reader gives becomes one record (id, headline, body, date, source, categories).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.models import Article  # noqa: E402
from indexer.readers import find_files, read_file  # noqa: E402

MAX_BYTES = 10 * 1024 * 1024


def convert(src: Path, out: Path) -> int:
    """Write one JSONL file per .sgm file; return the number of articles."""
    out.mkdir(parents=True, exist_ok=True)
    files, _ = find_files([src])
    count = 0
    for file in (f for f in files if f.path.suffix == ".sgm"):
        with open(out / f"{file.path.stem}.jsonl", "w", encoding="utf-8") as stream:
            for item in read_file(file, MAX_BYTES):
                if isinstance(item, Article):
                    record = {"id": item.id, "headline": item.headline, "body": "\n\n".join(item.body), "date": item.date,
                              "source": item.source, "categories": list(item.categories)}
                    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
                    count += 1
    return count


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.splitlines()[2])
    print(f"{convert(Path(sys.argv[1]), Path(sys.argv[2])):,} articles")
