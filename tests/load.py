"""Load test: staff asking while an admin reloads, against `bureau-bot run` over loopback.

    python -m tests.load                     # 20 users x 10 questions, 200-report reload
    python -m tests.load --users 5 --questions 4 --reports 20

Starts the local fake Bot API (:mod:`tests.fake_bot_api`) and ``bureau-bot run`` in a
scratch folder (the seed reports, store built beforehand as in service), drops
``--reports`` perturbed copies of real reports into the corpus, sends ``/reload`` as the
admin and, at the same time, has ``--users`` staff each ask ``--questions`` questions one
after another (the next once the previous is answered). Prints answered / failed and the
p50 / p95 / max time from a question's arrival at the Bot API to the bot's reply, and how
long the reload took. Bounded: every wait has a timeout and the bot is stopped at the end.
Not part of the unit test run (it takes about a minute).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from index.api import IndexSettings, Library
from index.devtools.benchmark import generate_corpus, percentile, questions
from tests.fake_bot_api import FakeBotApi, start_bot, stop_bot, text_update

TOKEN = "123456:LOAD-TEST"
ADMIN = 900
FIRST_STAFF = 5000
PROJECT_DIR = Path(__file__).resolve().parent.parent
REPLY_TIMEOUT = 60.0


def main() -> None:
    """Run the load test and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10, help="questions per user")
    parser.add_argument("--reports", type=int, default=200, help="new reports the admin's reload ingests")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bureau-load-") as folder:
        run(Path(folder), args.users, args.questions, args.reports)


def run(work: Path, users: int, per_user: int, reports: int) -> None:
    corpus = work / "corpus"
    shutil.copytree(PROJECT_DIR / "corpus", corpus)
    store = work / "bureau.db"
    Library(IndexSettings(corpus_dir=corpus, storage_url=f"sqlite:///{store}"), workers=2).reload()
    staged = work / "staged"
    generate_corpus(staged, reports * 17)  # about 17 passages a report
    new_reports = sorted(staged.iterdir())[:reports]

    api = FakeBotApi(TOKEN).start()
    config = work / "config.toml"
    config.write_text(
        f"[corpus]\ndir = '{corpus}'\n[storage]\nurl = 'sqlite:///{store}'\n"
        f"[telegram]\nbase_url = '{api.base_url}'\nbase_file_url = '{api.base_file_url}'\n"
        f"admins = [{ADMIN}]\nallowed_users = {list(range(FIRST_STAFF, FIRST_STAFF + users))}\n"
        "rate_limit_per_minute = 1000\n",
        encoding="utf-8",
    )
    process = start_bot(config, TOKEN, cwd=work, stdout=subprocess.DEVNULL)
    try:
        api.wait_for("getUpdates", timeout=120)
        for path in new_reports:
            shutil.copy(path, corpus / path.name)
        asked = questions()
        latencies: list[float] = []
        timeline: list[tuple[float, float]] = []  # (asked at, seconds after the reload began; reply time)
        failures: list[str] = []
        lock = threading.Lock()
        reload_started = time.monotonic()
        reload_mark = len(api.calls)
        api.push(text_update(ADMIN, "/reload", 1))

        def staff(index: int) -> None:
            user = FIRST_STAFF + index
            for number in range(per_user):
                question = asked[(index * per_user + number) % len(asked)]
                mark = len(api.calls)
                sent = time.monotonic()
                api.push(text_update(user, question, 10_000 + number))
                try:
                    api.wait_for("sendMessage", lambda p, u=user: int(p.get("chat_id", 0)) == u, REPLY_TIMEOUT, mark)
                except AssertionError:
                    with lock:
                        failures.append(f"user {user}: no reply to {question!r} within {REPLY_TIMEOUT:.0f} s")
                    continue
                with lock:
                    latencies.append(time.monotonic() - sent)
                    timeline.append((sent - reload_started, time.monotonic() - sent))

        threads = [threading.Thread(target=staff, args=(i,)) for i in range(users)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        finished = api.wait_for(
            "editMessageText", lambda p: "重新加载完成" in str(p.get("text", "")), timeout=1200, after=reload_mark
        )
        reload_seconds = time.monotonic() - reload_started
        total = users * per_user
        print(f"questions: {total} from {users} users during a reload of {len(new_reports)} new reports")
        print(f"answered: {len(latencies)}  failed: {len(failures)}")
        if latencies:
            print(
                f"reply time p50 {percentile(latencies, 0.5):.2f} s, p95 {percentile(latencies, 0.95):.2f} s, "
                f"max {max(latencies):.2f} s"
            )
        print(f"reload: {reload_seconds:.1f} s until its report ({finished['text'].splitlines()[1]})")
        during = [seconds for asked_at, seconds in timeline if asked_at < reload_seconds]
        after = [seconds for asked_at, seconds in timeline if asked_at >= reload_seconds]
        for label, part in (("during the reload", during), ("after it", after)):
            if part:
                p50, p95 = percentile(part, 0.5), percentile(part, 0.95)
                print(f"  asked {label}: {len(part)}, p50 {p50:.2f} s, p95 {p95:.2f} s")
        print(f"Bot API violations: {len(api.violations)}")
        if os.environ.get("LOAD_TIMELINE"):
            for asked_at, seconds in sorted(timeline):
                print(f"  {asked_at:6.2f} s  {seconds:.2f} s")
        for failure in failures[:10]:
            print("  " + failure)
    finally:
        stop_bot(process, timeout=60)
        api.stop()


if __name__ == "__main__":
    main()
