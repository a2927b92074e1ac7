"""Make a large corpus by sampling real paragraphs into new articles (real vocabulary, no duplicates).

Usage: python bench/synthetic.py SRC_JSONL_DIR OUT_DIR [COUNT]
Each new article takes a real headline, 0-3 real bullets and 3-15 body paragraphs drawn at random
from all source articles, a random date in 1987-2020 and one of the source categories. The seed is
fixed, so the corpus is the same on every run. Written as JSONL files of 5,000 articles each.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

PER_FILE = 5_000
SEED = 20261123


def _pools(src: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    headlines: list[str] = []
    bullets: list[str] = []
    paragraphs: list[str] = []
    categories: list[str] = []
    for path in sorted(src.rglob("*.jsonl")):
        with open(path, encoding="utf-8") as stream:
            for line in stream:
                record = json.loads(line)
                headlines.append(record.get("headline") or "")
                bullets.extend(record.get("bullets") or record.get("highlights") or [])
                paragraphs.extend(p for p in (record.get("body") or "").split("\n\n") if p.strip())
                categories.extend(record.get("categories") or [])
    return [h for h in headlines if h], bullets, paragraphs, sorted(set(categories)) or ["news"]


def make(src: Path, out: Path, count: int, seed: int = SEED) -> int:
    """Write `count` sampled articles under `out`; return the count."""
    headlines, bullets, paragraphs, categories = _pools(src)
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    for start in range(0, count, PER_FILE):
        with open(out / f"synthetic-{start // PER_FILE:03d}.jsonl", "w", encoding="utf-8") as stream:
            for number in range(start, min(start + PER_FILE, count)):
                record = {
                    "id": f"synthetic-{number}",
                    "headline": rng.choice(headlines),
                    "bullets": rng.sample(bullets, rng.randint(0, 3)) if bullets else [],
                    "body": "\n\n".join(rng.choice(paragraphs) for _ in range(rng.randint(3, 15))),
                    "date": f"{rng.randint(1987, 2020)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    "source": "synthetic",
                    "categories": [rng.choice(categories)],
                }
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    return count


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.splitlines()[2])
    print(f"{make(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) == 4 else 200_000):,} articles")
