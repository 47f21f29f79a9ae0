"""Measure the index at a bureau's and a province's scale: ``python -m index.benchmark``.

For each size (passages, default about 20,000 and 200,000) it generates a deterministic
corpus of perturbed copies of real reports (figures renumbered, sentences rotated, so
no two files are the same), ingests it, and prints one JSON object per size with:

- ingest: cold ingest seconds, reports and passages per second;
- search: p50/p95 ms of :meth:`Library.search` over the judged questions (k = 10, what
  the bot asks for; ``search_k3_*`` at k = 3, the benchmark's measure when the scale
  issue was filed) in the process that built the index and, ``served_search_*``, in a
  new process that only opened it, as the bot serves; and of our BM25 engine and bm25s
  (``bm25s.BM25``, method ``lucene``) given the same word tokens, and their ratio;
- ledger: p50/p99 ms of /target keyword lookups and of figures for number questions;
- open: cold start of ``bureau-bot search`` in a new process (seconds, CPU seconds),
  and the resident memory after opening the index (MB);
- reload: seconds of a reload with nothing changed, and with one new report.

With ``--corpus FOLDER ...`` it measures instead the question path over those reports as
they are (e.g. the dev set: the seeds and ``../shared/devset/reports``): search p50/p95
at k = 3 (what the bot shows) and k = 10, over all rounds and over the first pass alone
(nothing cached yet).

bm25s is a developer dependency (``pip install -e ".[bench]"``). Nothing here is
asserted by the tests: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import Session, select

from index.api import IndexSettings, Library, keep_freed_memory
from index.ingest.readers import SUPPORTED_SUFFIXES, read_document
from index.store.models import Passage

PROJECT_DIR = Path(__file__).resolve().parents[2]
SHARED = PROJECT_DIR.parent / "shared"
LEDGER_KEYWORDS = (
    "保租房", "加装电梯", "老旧小区改造", "停车位", "解危率", "项目", "投资", "棚改", "燃气管道", "自建房",
)  # fmt: skip
PASSAGE_CHARS = 130  # mean passage length, to size the copies
_DIGITS = re.compile(r"\d+")
_SENTENCES = re.compile(r"[^。；！？]+[。；！？]?")


def source_reports() -> list[tuple[str, str]]:
    """Return (name, text) of the bundled seed reports and, when present, the dev set's."""
    folders = [PROJECT_DIR / "corpus", SHARED / "devset" / "reports"]
    reports = []
    for folder in folders:
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                reports.append((path.stem, read_document(path, 50 * 1_048_576)))
    return reports


def perturb(text: str, rng: random.Random, copy: int) -> str:
    """Return a different report with the same vocabulary: every number renumbered,
    the sentences of each paragraph rotated, and a line naming the copy."""
    paragraphs = []
    for paragraph in text.split("\n"):
        paragraph = _DIGITS.sub(lambda m: _renumber(m.group(), rng), paragraph)
        sentences = _SENTENCES.findall(paragraph)
        if len(sentences) > 2:
            turn = rng.randrange(len(sentences))
            sentences = sentences[turn:] + sentences[:turn]
        paragraphs.append("".join(sentences) or paragraph)
    return f"（汇编第{copy}份）\n" + "\n".join(paragraphs)


def _renumber(digits: str, rng: random.Random) -> str:
    return str(rng.randrange(10 ** (len(digits) - 1), 10 ** len(digits)))


def generate_corpus(folder: Path, passages: int, seed: int = 12) -> int:
    """Write perturbed copies into ``folder`` until about ``passages`` passages; return
    how many files were written."""
    reports = source_reports()
    per_round = sum(len(text) for _, text in reports) / PASSAGE_CHARS
    rounds = max(1, math.ceil(passages / per_round))
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for copy in range(rounds):
        for name, text in reports:
            (folder / f"{copy:05d}_{name}.txt").write_text(perturb(text, rng, copy), encoding="utf-8")
    return rounds * len(reports)


def questions() -> list[str]:
    """The judged questions of the seeds and, when present, of the dev set."""
    lines = (PROJECT_DIR / "tests" / "data" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    dev = SHARED / "devset" / "questions.jsonl"
    if dev.exists():
        lines += dev.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of ``values`` (share 0-1), rounded to 0.01."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))], 3)


def timed(call, *args, **kwargs) -> tuple[float, object]:
    """Return (milliseconds, result) of one call."""
    started = time.perf_counter()
    result = call(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, result


def run_size(passages: int, work: Path, rounds: int) -> dict:
    """Generate, ingest and measure one corpus size; return the figures."""
    corpus = work / "corpus"
    files = generate_corpus(corpus, passages)
    settings = IndexSettings(corpus_dir=corpus, storage_url=f"sqlite:///{work / 'store.db'}")
    started = time.perf_counter()
    library = Library(settings, notice=lambda message: None, workers=os.cpu_count() or 1)
    report = library.open()
    ingest = time.perf_counter() - started
    asked = questions()
    ours = [timed(library.search, q, 10)[0] for _ in range(rounds) for q in asked]
    ours_k3 = [timed(library.search, q, 3)[0] for _ in range(rounds) for q in asked]
    engine_ms, bm25s_ms = compare_bm25s(library, asked, rounds)
    ledger = [timed(library.targets, keyword, limit=10)[0] for _ in range(rounds) for keyword in LEDGER_KEYWORDS]
    figures = [timed(library.figures, q)[0] for q in asked if library.parse(q).asks_number]
    unchanged, _ = timed(library.reload)
    (corpus / "zz_new.txt").write_text(perturb(source_reports()[0][1], random.Random(99), 99999), encoding="utf-8")
    one_new, added = timed(library.reload)
    probe = open_probe(work) | served_probe(work, rounds)
    return {
        "passages": report.passages if report else None,
        "reports": files,
        "ingest_seconds": round(ingest, 1),
        "ingest_reports_per_second": round(files / ingest, 1),
        "ingest_passages_per_second": round((report.passages if report else 0) / ingest, 1),
        "search_ms_p50": percentile(ours, 0.5),
        "search_ms_p95": percentile(ours, 0.95),
        "search_k3_ms_p50": percentile(ours_k3, 0.5),
        "search_k3_ms_p95": percentile(ours_k3, 0.95),
        "engine_ms_p50": percentile(engine_ms, 0.5),
        "engine_ms_p95": percentile(engine_ms, 0.95),
        "bm25s_ms_p50": percentile(bm25s_ms, 0.5) if bm25s_ms else None,
        "bm25s_ms_p95": percentile(bm25s_ms, 0.95) if bm25s_ms else None,
        "engine_over_bm25s_p50": _ratio(engine_ms, bm25s_ms),
        "ledger_ms_p50": percentile(ledger, 0.5),
        "ledger_ms_p99": percentile(ledger, 0.99),
        "figures_ms_p50": percentile(figures, 0.5),
        "figures_ms_p95": percentile(figures, 0.95),
        "reload_unchanged_seconds": round(unchanged / 1000, 3),
        "reload_one_new_seconds": round(one_new / 1000, 3),
        "reload_one_new_added": added.added,
        **probe,
    }


def run_corpus(folders: list[Path], work: Path, rounds: int) -> dict:
    """Ingest the report files of ``folders`` as they are and time the judged questions."""
    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    files = [p for folder in folders for p in sorted(folder.iterdir()) if p.suffix.lower() in SUPPORTED_SUFFIXES]
    for path in files:
        shutil.copy(path, corpus / path.name)
    settings = IndexSettings(corpus_dir=corpus, storage_url=f"sqlite:///{work / 'store.db'}")
    library = Library(settings, notice=lambda message: None, workers=os.cpu_count() or 1)
    report = library.open()
    library.serving.interpreter.prepare()  # as the bot does before serving
    asked = questions()
    figures: dict = {"reports": len(files), "passages": report.passages if report else None}
    for k in (3, 10):
        timings = [[timed(library.search, q, k)[0] for q in asked] for _ in range(rounds)]
        every = [t for one in timings for t in one]
        figures |= {
            f"search_k{k}_ms_p50": percentile(every, 0.5),
            f"search_k{k}_ms_p95": percentile(every, 0.95),
            f"search_k{k}_first_pass_ms_p50": percentile(timings[0], 0.5),
        }
    return figures


def _ratio(ours: list[float], theirs: list[float]) -> float | None:
    return round(statistics.median(ours) / statistics.median(theirs), 2) if theirs else None


def compare_bm25s(library: Library, asked: list[str], rounds: int) -> tuple[list[float], list[float]]:
    """Time our engine's BM25 alone and bm25s's on the same word tokens (top 10).

    Returns (our ms, bm25s ms); bm25s's list is empty when it is not installed.
    """
    from index.search.engine import field_scores, top_k

    searcher = library.serving
    known = searcher.index.vocabularies["word"]
    queries = [
        [a for term in library.parse(q).terms for a in term.alternatives if known.get(a) is not None] for q in asked
    ]
    queries = [q for q in queries if q]
    ours = []
    for _ in range(rounds):
        for query in queries:
            started = time.perf_counter()
            top_k(field_scores(searcher.index, "word", query, searcher.parameters), 10)  # as bm25s.retrieve
            ours.append((time.perf_counter() - started) * 1000)
    try:
        import bm25s
    except ImportError:
        return ours, []
    with Session(library.engine) as session:
        corpus = [json.loads(tokens) for tokens in session.exec(select(Passage.tokens).order_by(Passage.id))]
    model = bm25s.BM25(k1=searcher.ranking.k1, b=searcher.ranking.b, method="lucene")
    model.index(corpus, show_progress=False)
    theirs = []
    for _ in range(rounds):
        for query in queries:
            started = time.perf_counter()
            model.retrieve([query], k=10, show_progress=False, n_threads=1)
            theirs.append((time.perf_counter() - started) * 1000)
    return ours, theirs


def open_probe(work: Path) -> dict:
    """Open the index and answer one question in a new process; return its wall and CPU
    seconds and the resident memory after opening."""
    code = (
        "import json,resource,time,sys;t=time.perf_counter()\n"
        "from pathlib import Path\n"
        "from index.api import IndexSettings, Library\n"
        f"s=IndexSettings(corpus_dir=Path({str(work / 'corpus')!r}),storage_url='sqlite:///{work / 'store.db'}')\n"
        "l=Library(s,notice=lambda m:None);l.open();l.search('加装电梯完成了多少台')\n"
        "rss=[int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmRSS')][0]/1024\n"
        "u=resource.getrusage(resource.RUSAGE_SELF)\n"
        "print(json.dumps({'cold_start_seconds':round(time.perf_counter()-t,2),"
        "'cold_start_cpu_seconds':round(u.ru_utime+u.ru_stime,2),'rss_after_open_mb':round(rss,1)}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_DIR, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def served_search(work: Path, rounds: int) -> dict:
    """Time the judged questions (k = 10, then k = 3) as a server answers them: in this
    process, which only opened the index and built its word tables, as the bot does
    before serving (the ingest's process carries the heap of a whole build), with the
    allocator set as ``bureau-bot`` sets it (:func:`index.library.keep_freed_memory`)."""
    keep_freed_memory()  # as bureau-bot does
    settings = IndexSettings(corpus_dir=work / "corpus", storage_url=f"sqlite:///{work / 'store.db'}")
    library = Library(settings, notice=lambda message: None)
    library.open()
    library.serving.interpreter.prepare()
    asked = questions()
    timings = [[timed(library.search, q, 10)[0] for q in asked] for _ in range(rounds)]
    every = [t for one in timings for t in one]
    at_three = [timed(library.search, q, 3)[0] for _ in range(rounds) for q in asked]
    return {
        "served_search_ms_p50": percentile(every, 0.5),
        "served_search_ms_p95": percentile(every, 0.95),
        "served_search_first_pass_ms_p50": percentile(timings[0], 0.5),
        "served_search_k3_ms_p50": percentile(at_three, 0.5),
        "served_search_k3_ms_p95": percentile(at_three, 0.95),
    }


def served_probe(work: Path, rounds: int) -> dict:
    """Run :func:`served_search` in a new process; return its figures."""
    code = f"import json;from pathlib import Path;from index.devtools.benchmark import served_search as s;" \
        f"print(json.dumps(s(Path({str(work)!r}),{rounds})))"  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_DIR, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Parse arguments, run each size, print one JSON line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,200000", help="passages per corpus, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions")
    parser.add_argument("--keep", type=Path, help="keep the generated corpora and stores under this folder")
    parser.add_argument("--corpus", type=Path, nargs="+", help="time the questions over these report folders instead")
    args = parser.parse_args()
    keep_freed_memory()  # as bureau-bot does before it ingests or serves
    if args.corpus:
        with tempfile.TemporaryDirectory() as scratch:
            figures = run_corpus(args.corpus, Path(scratch), args.rounds)
        print(json.dumps({"corpus": [str(f) for f in args.corpus], **figures}))
        return
    for size in (int(s) for s in args.sizes.split(",")):
        if args.keep:
            work = args.keep / f"size-{size}"
            work.mkdir(parents=True, exist_ok=True)
            figures = run_size(size, work, args.rounds)
        else:
            with tempfile.TemporaryDirectory() as scratch:
                figures = run_size(size, Path(scratch), args.rounds)
        figures["peak_rss_mb_this_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps({"size": size, **figures}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
