"""Measure ingest, startup and query speed, and memory: ``python -m index.benchmark``.

Runs on a throw-away copy of a corpus folder (default: the bundled ``corpus/``),
optionally replicated N times to see how the index scales, and prints one JSON object.
Nothing here is asserted by the tests: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from index.devtools.evaluation import load_questions
from index.library import Library
from index.settings import IndexSettings

PROJECT_DIR = Path(__file__).resolve().parent.parent
LEDGER_KEYWORDS = ("保租房", "加装电梯", "老旧小区改造", "停车位", "解危率", "项目", "投资", "棚改")


def benchmark(corpus: Path, questions: list[str], copies: int, rounds: int) -> dict:
    """Return timings (seconds; milliseconds per search, per ledger lookup: figures for
    each question and a fixed set of keywords) and peak memory (MB)."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        replicated = work / "corpus"
        replicated.mkdir()
        for copy in range(copies):
            for path in corpus.iterdir():
                if path.is_file():
                    shutil.copy(path, replicated / f"{copy:03d}_{path.name}")
        settings = IndexSettings(corpus_dir=replicated, storage_url=f"sqlite:///{work / 'store.db'}")

        started = time.perf_counter()
        first = Library(settings, notice=lambda message: None)
        report = first.open()
        cold_ingest = time.perf_counter() - started

        started = time.perf_counter()
        warm = Library(settings, notice=lambda message: None)
        warm.open()
        warm_open = time.perf_counter() - started

        started = time.perf_counter()
        unchanged_reload = warm.reload()
        reload_seconds = time.perf_counter() - started

        latencies = []
        for _ in range(rounds):
            for question in questions:
                started = time.perf_counter()
                warm.search(question, k=3)
                latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()
        ledger = []
        for question in questions:
            started = time.perf_counter()
            warm.figures(question)
            ledger.append((time.perf_counter() - started) * 1000)
        for keyword in LEDGER_KEYWORDS:
            started = time.perf_counter()
            warm.targets(keyword)
            ledger.append((time.perf_counter() - started) * 1000)
        ledger.sort()
        return {
            "documents": report.documents if report else None,
            "passages": len(warm.serving),
            "cold_ingest_seconds": round(cold_ingest, 2),
            "open_from_store_seconds": round(warm_open, 2),
            "reload_unchanged_seconds": round(reload_seconds, 2),
            "reload_reported_seconds": unchanged_reload.seconds,
            "queries": len(latencies),
            "query_ms_p50": round(statistics.median(latencies), 2),
            "query_ms_p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
            "query_ms_max": round(latencies[-1], 2),
            "targets": report.targets if report else None,
            "ledger_ms_p50": round(statistics.median(ledger), 2),
            "ledger_ms_p95": round(ledger[int(0.95 * (len(ledger) - 1))], 2),
            "store_mb": round(sum(p.stat().st_size for p in work.glob("store.db*")) / 1_048_576, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }


def main() -> None:
    """Parse arguments and print the benchmark as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT_DIR / "corpus")
    parser.add_argument("--questions", type=Path, default=PROJECT_DIR / "tests" / "data" / "dev.jsonl")
    parser.add_argument("--copies", type=int, default=1, help="replicate the corpus this many times")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the questions")
    args = parser.parse_args()
    questions = [q.question for q in load_questions(args.questions)]
    print(json.dumps(benchmark(args.corpus, questions, args.copies, args.rounds), ensure_ascii=False))


if __name__ == "__main__":
    main()
