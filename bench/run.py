"""Side-by-side benchmark: this project (each engine) against raw tantivy, SQLite FTS5, raw whoosh
and bm25s, on the same data in one run; prints a markdown table.

Usage:
  python bench/run.py            # 48k real articles (BBC + Reuters-21578 + Daily Mail) and 200k synthetic
  python bench/run.py --quick    # BBC + one Reuters file (about 3k articles): a smoke test, a few minutes
Options: --work DIR (prepared corpora and indexes, default $TMPDIR/article-search-bench),
  --systems a,b (subset of bench/systems.py SYSTEMS), --corpora real,synthetic, --json FILE.
Needs `pip install -e '.[bench]'` (tantivy, bm25s). Each build, warm run and cold query runs in its
own process; peak memory is that process's largest resident set (os.wait4), parse workers excluded.
Numbers from a shared machine are noisy: run it on a quiet one before drawing fine conclusions.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH.parent
CORPORA = PROJECT_ROOT.parent / "shared" / "corpora"
sys.path[:0] = [str(BENCH), str(PROJECT_ROOT)]

import reuters  # noqa: E402
from systems import SYSTEMS, project_build_command, project_query_command  # noqa: E402

QUERIES = BENCH / "queries.txt"
COLD_QUERIES = ("Jalalabad", "oil prices", '"prime minister"', "Brexit trade deal chance", "goverment")
SYNTHETIC_COUNT = 200_000
REFERENCE = "raw-tantivy"
# Children may cache bytecode, as an installed tool does (a cold query must not recompile everything).
# Semantic ranking (an optional extra) is off: this compares engines; bench/relevance.py measures it.
CHILD_ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "ARTICLE_SEARCH_SEMANTIC": "off"}


@dataclass
class Result:
    corpus: str
    system: str
    articles: int
    build_s: float = 0.0
    build_cpu_s: float = 0.0
    size_mb: float = 0.0
    peak_mb: float = 0.0
    warm_p50: float = 0.0
    warm_p95: float = 0.0
    cold_ms: float = 0.0
    update_s: float | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.articles / self.build_s if self.build_s else 0.0


# --- corpora -----------------------------------------------------------------------------------

def export_bbc(out: Path, only: str | None = None) -> None:
    """BBC .txt files as one JSONL file, read with the project's own reader."""
    from indexer.models import Article
    from indexer.readers import find_files, read_file

    files, _ = find_files([CORPORA / "bbc" / only if only else CORPORA / "bbc"])
    with open(out, "w", encoding="utf-8") as stream:
        for file in files:
            for item in read_file(file, 10 * 1024 * 1024):
                if isinstance(item, Article):
                    record = {"id": f"bbc/{item.id}", "headline": item.headline, "body": "\n\n".join(item.body + item.captions)}
                    stream.write(json.dumps(record, ensure_ascii=False) + "\n")


def prepare_real(work: Path, quick: bool) -> Path:
    """BBC + Reuters (+ Daily Mail unless quick) as JSONL under one folder, made once."""
    folder = work / ("quick" if quick else "real")
    if (folder / ".complete").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    export_bbc(folder / "bbc.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        reuters.convert(CORPORA / "reuters21578", Path(tmp))
        wanted = sorted(Path(tmp).glob("*.jsonl"))[:1] if quick else sorted(Path(tmp).glob("*.jsonl"))
        for path in wanted:
            shutil.copy(path, folder / f"reuters-{path.name}")
    if not quick:
        for path in sorted((CORPORA / "dailymail_finescoop_2020").glob("*.jsonl")):
            shutil.copy(path, folder / f"dailymail-{path.name}")
    (folder / ".complete").touch()
    return folder


def prepare_synthetic(work: Path, real: Path) -> Path:
    folder = work / "synthetic"
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        # in a child process: Linux keeps a forked child's peak RSS across exec, so this process must
        # stay small or every measured child would report at least its size
        subprocess.run([sys.executable, str(BENCH / "synthetic.py"), str(real), str(folder), str(SYNTHETIC_COUNT)], check=True)
        (folder / ".complete").touch()
    return folder


def count_articles(folder: Path) -> int:
    return sum(sum(1 for line in open(p, "rb") if line.strip()) for p in folder.glob("*.jsonl"))


# --- measurements ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and the children it waited for
    peak_mb: float  # largest resident set of the process (or of one of its children)
    stdout: str


def child_env(system: str) -> dict[str, str]:
    """The environment of a system's processes: `-py` systems run the project without its native analyzer."""
    return {**CHILD_ENV, "ARTICLE_SEARCH_NATIVE": "off"} if system.endswith("-py") else CHILD_ENV


def run_measured(command: list[str], ok: tuple[int, ...] = (0,), env: dict[str, str] = CHILD_ENV) -> Run:
    """Run a child process and measure it."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=PROJECT_ROOT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if process.returncode not in ok:
        raise RuntimeError(f"{' '.join(command[:3])}... exited {process.returncode}: {stderr.strip()[-500:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout)


def systems_command(*args: str) -> list[str]:
    return [sys.executable, str(BENCH / "systems.py"), *args]


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def measure(system: str, corpus_name: str, corpus: Path, articles: int, work: Path) -> Result:
    result = Result(corpus_name, system, articles)
    index = work / "indexes" / corpus_name / system
    shutil.rmtree(index, ignore_errors=True)
    index.parent.mkdir(parents=True, exist_ok=True)
    project = system.startswith("project-")
    engine = system.removeprefix("project-").removesuffix("-py")
    build = project_build_command(engine, corpus, index) if project else systems_command("build", system, str(corpus), str(index))
    ok = (0, 1) if project else (0,)  # the project's 1: "something was skipped" / "no hits"
    env = child_env(system)
    try:
        done = run_measured(build, ok, env)
        result.build_s, result.build_cpu_s, result.peak_mb = done.wall, done.cpu, done.peak_mb
        result.size_mb = folder_mb(index)
        values = sorted(json.loads(run_measured(systems_command("warm", system, str(index), str(QUERIES)), env=env).stdout))
        result.warm_p50 = statistics.median(values)
        result.warm_p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        colds = []
        for query in COLD_QUERIES:
            colds.append(run_measured(cold_command(system, index, query), ok, env).wall * 1000)
        result.cold_ms = statistics.median(colds)
    except (RuntimeError, OSError, ValueError) as exc:
        result.errors.append(str(exc))
    print(f"  {format_row(result, None)}", file=sys.stderr, flush=True)
    with open(work / "results.jsonl", "a", encoding="utf-8") as log:  # survives an interrupted run
        log.write(json.dumps(asdict(result)) + "\n")
    return result


def cold_command(system: str, index: Path, query: str) -> list[str]:
    """A fresh process that opens, queries, cuts snippets and prints: the project's `search`; for raw
    tantivy the floor the project's cold start is held to, a bare click + tantivy script."""
    if system.startswith("project-"):
        return project_query_command(index, query)
    if system == REFERENCE:
        return [sys.executable, str(BENCH / "click_tantivy.py"), str(index), query]
    return systems_command("query", system, str(index), query)


def has_update_command() -> bool:
    help_text = subprocess.run([str(Path(sys.executable).parent / "search-index"), "--help"], capture_output=True, text=True).stdout
    return any(line.strip().startswith("update") for line in help_text.splitlines())


def measure_updates(results: list[Result], corpus: Path, work: Path) -> None:
    """Change 1% of the articles (every 100th record's headline), time `search-index update`, restore."""
    originals = {p: p.read_bytes() for p in corpus.glob("*.jsonl")}
    try:
        for path, data in originals.items():
            lines = data.decode("utf-8").splitlines()
            for i in range(0, len(lines), 100):
                record = json.loads(lines[i])
                record["headline"] = (record.get("headline") or "") + " (updated)"
                lines[i] = json.dumps(record, ensure_ascii=False)
            path.chmod(0o644)  # copies of a read-only shared corpus keep its mode
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for result in results:
            if result.system.startswith("project-") and not result.errors:
                index = work / "indexes" / result.corpus / result.system
                command = [str(Path(sys.executable).parent / "search-index"), "update", str(corpus), "--index", str(index), "--quiet"]
                try:
                    result.update_s = run_measured(command, (0, 1), child_env(result.system)).wall
                except RuntimeError as exc:
                    result.errors.append(str(exc))
    finally:
        for path, data in originals.items():
            path.write_bytes(data)


# --- the table ---------------------------------------------------------------------------------

def ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}x" if value and reference else "-"


def format_row(r: Result, ref: Result | None, updates: bool = False) -> str:
    if r.errors:
        return f"| {r.corpus} | {r.system} | {r.articles:,} | error: {r.errors[0][:120]} |"
    cells = [
        r.corpus, r.system, f"{r.articles:,}", f"{r.rate:,.0f}", f"{r.build_cpu_s:,.0f}", f"{r.size_mb:,.0f}", f"{r.peak_mb:,.0f}",
        f"{r.warm_p50:.1f}", f"{r.warm_p95:.1f}", f"{r.cold_ms:,.0f}",
    ]
    if updates:
        cells.append(f"{r.update_s:.1f}" if r.update_s is not None else "-")
    if ref is not None:
        cells += [ratio(r.rate, ref.rate), ratio(r.warm_p50, ref.warm_p50), ratio(r.cold_ms, ref.cold_ms)]
    return "| " + " | ".join(cells) + " |"


def table(results: list[Result], updates: bool) -> str:
    head = ["corpus", "system", "articles", "build art/s", "build CPU s", "index MB", "peak RSS MB", "warm p50 ms", "warm p95 ms", "cold ms"]
    if updates:
        head.append("update 1% s")
    head += ["build vs raw tantivy", "warm p50 vs raw tantivy", "cold vs raw tantivy"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        ref = next((x for x in results if x.corpus == r.corpus and x.system == REFERENCE and not x.errors), None)
        lines.append(format_row(r, ref, updates))
    return "\n".join(lines)


# Issue 14's targets, as ratios to a reference measured in the same run: (system, figure, reference,
# limit, better when higher); figure "build" is articles/s, "warm" the p50, "cold" the median cold query.
TARGETS: tuple[tuple[str, str, str, float, bool], ...] = (
    ("project-tantivy", "build", REFERENCE, 0.6, True),
    ("project-tantivy", "warm", REFERENCE, 1.5, False),
    ("project-tantivy", "cold", REFERENCE, 1.25, False),
    ("project-tantivy-py", "warm", REFERENCE, 2.5, False),
    ("project-tantivy-py", "cold", REFERENCE, 1.25, False),
    ("project-whoosh", "build", "raw-whoosh", 1.0, True),
    ("project-whoosh", "warm", "raw-whoosh", 1.0, False),
)
FIGURES = {"build": lambda r: r.rate, "warm": lambda r: r.warm_p50, "cold": lambda r: r.cold_ms}


def targets_table(results: list[Result]) -> str:
    """Each target's ratio in this run, with SQLite FTS5's ratio to the same reference beside it."""
    lines = ["| corpus | system | figure | vs | target | ratio | met | sqlite-fts5 vs the same |", "|---|---|---|---|---|---|---|---|"]
    for corpus in dict.fromkeys(r.corpus for r in results):
        found = {r.system: r for r in results if r.corpus == corpus and not r.errors}
        for system, figure, reference, limit, higher in TARGETS:
            if system not in found or reference not in found:
                continue
            value, ref = FIGURES[figure](found[system]), FIGURES[figure](found[reference])
            got = value / ref if ref else 0.0
            met = got >= limit if higher else got <= limit
            fts = ratio(FIGURES[figure](found["sqlite-fts5"]), ref) if "sqlite-fts5" in found else "-"
            lines.append(f"| {corpus} | {system} | {figure} | {reference} | {'>=' if higher else '<='} {limit}x | {got:.2f}x | "
                         f"{'yes' if met else 'NO'} | {fts} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small corpus only (smoke test)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "article-search-bench")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--corpora", default="real,synthetic")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--report", type=Path, default=None, help="only print the table of a results.jsonl file")
    args = parser.parse_args()
    if args.report:
        saved = [Result(**json.loads(line)) for line in args.report.read_text().splitlines() if line.strip()]
        print(table(saved, any(r.update_s is not None for r in saved)))
        print("\n" + targets_table(saved))
        return
    systems = [s for s in args.systems.split(",") if s]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}; choose from {', '.join(SYSTEMS)}")
    args.work.mkdir(parents=True, exist_ok=True)
    real = prepare_real(args.work, args.quick)
    corpora = [("quick" if args.quick else "real-48k", real)]
    if not args.quick and "synthetic" in args.corpora:
        corpora.append(("synth-200k", prepare_synthetic(args.work, real)))
    if "real" not in args.corpora and not args.quick:
        corpora = corpora[1:]
    updates = has_update_command()
    results: list[Result] = []
    for name, folder in corpora:
        articles = count_articles(folder)
        print(f"{name}: {articles:,} articles in {folder}", file=sys.stderr, flush=True)
        corpus_results = [measure(system, name, folder, articles, args.work) for system in systems]
        if updates:
            measure_updates(corpus_results, folder, args.work)
        results += corpus_results
    print(table(results, updates))
    print("\n" + targets_table(results))
    if not updates:
        print("\n(no `search-index update` command in this checkout: the incremental-update column is left out)")
    print(f"\ncold = median wall time of {len(COLD_QUERIES)} fresh processes (open, query, snippets, print; OS file cache warm); "
          f"warm = one pass over {QUERIES.name} after a warm-up pass, 10 hits with snippets; "
          f"{os.cpu_count()} CPUs, machine shared, so the figures are noisy.")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
