"""Benchmark: incremental `update` against a full build.

Files mode (the default): 1% of a 50,000-article corpus changed. The corpus is made in a temporary
folder from real articles, one .txt file per article (sharded in folders of 1,000): all of BBC (2,225)
and Daily Mail (24,308), and the rest up to --articles recombined from real Daily Mail text (one
article's headline over paragraphs of three others). Then: full build; change 1% (0.4% edited, 0.3%
added, 0.3% removed); update; a no-change update.

JSONL mode (issue 16's target): one JSONL file of --records real Daily Mail records; full build; append
--append records; update (the report must say exactly that many added); then edit one record; update.
Target: the append's update under 10% of the full build.

Prints a markdown table. Single runs on a shared machine: figures are noisy.

    python bench/update.py [--engine whoosh] [--articles 50000] [--changed 0.01] [--workdir DIR]
    python bench/update.py --jsonl [--engine whoosh] [--records 12000] [--append 20] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
CORPORA = PROJECT_ROOT.parent / "shared" / "corpora"

from indexer.build import build_index  # noqa: E402
from indexer.config import Config  # noqa: E402
from indexer.update import update_index  # noqa: E402

SHARD = 1000


def dailymail_lines() -> Iterator[str]:
    for part in sorted((CORPORA / "dailymail_finescoop_2020").glob("*.jsonl")):
        with open(part, encoding="utf-8") as stream:
            yield from stream


def dailymail_records() -> Iterator[dict]:
    return map(json.loads, dailymail_lines())


def as_text(headline: str, paragraphs: list[str], bullets: list[str] = ()) -> str:  # type: ignore[assignment]
    header = [headline.replace("\n", " ").strip() or "Untitled", *(f"• {b}" for b in bullets)]
    return "\n".join(header) + "\n\n" + "\n\n".join(paragraphs) + "\n"


def make_corpus(folder: Path, articles: int, rng: random.Random) -> list[Path]:
    """Write the corpus; return the article files in order."""
    texts: list[str] = []
    for path in sorted((CORPORA / "bbc").glob("*/*.txt")):
        texts.append(path.read_text(encoding="latin-1"))
    records = list(dailymail_records())
    paragraphs = [p for r in records for p in r["body"].split("\n\n") if len(p) > 80]
    for r in records:
        bullets = [r["description"]] if r.get("description") else []
        texts.append(as_text(r["headline"], r["body"].split("\n\n"), bullets))
    while len(texts) < articles:
        headline = rng.choice(records)["headline"]
        texts.append(as_text(headline, rng.sample(paragraphs, 3)))
    files = []
    for number, text in enumerate(texts[:articles]):
        path = folder / f"{number // SHARD:03d}" / f"{number:06d}.txt"
        if number % SHARD == 0:
            path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return files


def change(files: list[Path], fraction: float, rng: random.Random) -> dict[str, int]:
    """Edit, add and remove articles: `fraction` of the corpus in all (40/30/30)."""
    count = round(len(files) * fraction)
    edited, removed = round(count * 0.4), round(count * 0.3)
    added = count - edited - removed
    chosen = rng.sample(files, edited + removed)
    for path in chosen[:edited]:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write("\n\nCorrection: this article was updated overnight.\n")
    for path in chosen[edited:]:
        path.unlink()
    new = files[0].parent.parent / "new"
    new.mkdir()
    for n, source in enumerate(rng.sample(files, added)):
        if source.exists():
            (new / f"{n:06d}.txt").write_text(source.read_text(encoding="utf-8").replace("\n", " (follow-up)\n", 1), encoding="utf-8")
        else:
            (new / f"{n:06d}.txt").write_text(f"Follow-up story {n}\n\nA new article for the benchmark.\n", encoding="utf-8")
    return {"edited": edited, "added": added, "removed": removed}


def jsonl_benchmark(workdir: Path, engine: str, records: int, appended: int) -> None:
    """Append records to a big JSONL file and edit one; print full build vs update seconds."""
    corpus, index = workdir / "corpus", workdir / "index"
    corpus.mkdir(parents=True)
    lines = list(itertools.islice(dailymail_lines(), records + appended))
    feed = corpus / "dailymail.jsonl"
    feed.write_text("".join(lines[:records]), encoding="utf-8")
    config = Config(index_dir=index, corpus_dirs=(corpus,), semantic="off", engine=engine)
    print(f"full build of {records:,} records ({engine}) ...", file=sys.stderr)
    build_seconds, build = timed(lambda: build_index([corpus], index, config))
    with open(feed, "a", encoding="utf-8") as stream:
        stream.writelines(lines[records:])
    append_seconds, append = timed(lambda: update_index([corpus], index, config))
    if (append.added, append.updated, append.removed) != (appended, 0, 0):
        raise SystemExit(f"the update reported {append.added} added, {append.updated} updated, {append.removed} removed")
    edited = lines[:]
    middle = json.loads(edited[records // 2])
    middle["body"] += "\n\nCorrection: an earlier version of this article misstated a figure."
    edited[records // 2] = json.dumps(middle) + "\n"
    feed.write_text("".join(edited), encoding="utf-8")
    edit_seconds, edit = timed(lambda: update_index([corpus], index, config))
    if (edit.added, edit.updated, edit.removed) != (0, 1, 0):
        raise SystemExit(f"the edit's update reported {edit.added} added, {edit.updated} updated, {edit.removed} removed")
    size = feed.stat().st_size / 1e6
    share = append_seconds / build_seconds
    print(f"\n{engine}: one JSONL file of {records:,} real Daily Mail records ({size:,.0f} MB); update reports: "
          f"{append.added} added, {append.unchanged:,} unchanged; then {edit.updated} updated, {edit.unchanged:,} unchanged\n")
    print("| engine | run | seconds | share of full build |")
    print("|---|---|---:|---:|")
    print(f"| {engine} | full build ({build.indexed:,} records) | {build_seconds:.1f} | 100% |")
    print(f"| {engine} | update, {appended} records appended | {append_seconds:.2f} | {share:.1%} |")
    print(f"| {engine} | update, 1 record edited | {edit_seconds:.2f} | {edit_seconds / build_seconds:.1%} |")
    print(f"\ntarget (update under 10% of a full build): {'met' if share < 0.10 else 'NOT met'}")


def timed(call):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the corpus and index here (default: a temporary folder, removed)")
    parser.add_argument("--engine", default="whoosh", help="whoosh (default) or tantivy")
    parser.add_argument("--jsonl", action="store_true", help="append records to one big JSONL file instead (issue 16's target)")
    parser.add_argument("--records", type=int, default=12_000, help="JSONL mode: records in the file (default 12,000)")
    parser.add_argument("--append", type=int, default=20, help="JSONL mode: records appended (default 20)")
    args = parser.parse_args()
    rng = random.Random(2026)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-update-"))
    corpus, index = workdir / "corpus", workdir / "index"
    try:
        if args.jsonl:
            jsonl_benchmark(workdir, args.engine, args.records, args.append)
            return
        print(f"making a {args.articles:,}-article corpus in {corpus} ...", file=sys.stderr)
        files = make_corpus(corpus, args.articles, rng)
        config = Config(index_dir=index, corpus_dirs=(corpus,), semantic="off", engine=args.engine)  # times the indexing itself
        print("full build ...", file=sys.stderr)
        build_seconds, build = timed(lambda: build_index([corpus], index, config))
        changes = change(files, args.changed, rng)
        print(f"changed {changes}; update ...", file=sys.stderr)
        update_seconds, update = timed(lambda: update_index([corpus], index, config))
        noop_seconds, _ = timed(lambda: update_index([corpus], index, config))
        print(f"\n{build.indexed:,} articles, {sum(f.stat().st_size for f in corpus.rglob('*.txt')) / 1e6:,.0f} MB of text; "
              f"changed {changes['edited']} edited + {changes['added']} added + {changes['removed']} removed "
              f"({args.changed:.0%}); update report: {update.added} added, {update.updated} updated, "
              f"{update.removed} removed, {update.unchanged:,} unchanged\n")
        print("| run | seconds | share of full build |")
        print("|---|---:|---:|")
        print(f"| full build ({build.indexed:,} articles) | {build_seconds:.1f} | 100% |")
        print(f"| update, {args.changed:.0%} changed | {update_seconds:.1f} | {update_seconds / build_seconds:.1%} |")
        print(f"| update, nothing changed | {noop_seconds:.1f} | {noop_seconds / build_seconds:.1%} |")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
