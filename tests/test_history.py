"""The question log: feedback, statistics by local day, CSV export, retention."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.config import HistorySettings
from bot.history import Feedback, QuestionHistory, normalize_question


class Now:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def history(tmp_path):
    now = Now(datetime(2026, 3, 10, 1, 30, tzinfo=UTC))  # 09:30 in Shanghai
    settings = HistorySettings(url=f"sqlite:///{tmp_path / 'history.db'}", retention_days=30, timezone="Asia/Shanghai")
    return QuestionHistory(settings, now), now


def test_questions_feedback_and_stats(history):
    log, _ = history
    first = log.record_question(1, 1, "加装电梯完成了多少台？", [11, 12]).id
    log.record_question(2, 2, "加装电梯完成了多少台", [11])
    log.record_question(2, 2, "火锅店推荐", [])
    assert log.record_feedback(first, 1, 1) and log.record_feedback(first, 1, -1)  # the later vote counts
    assert not log.record_feedback(99999, 1, 1)
    with pytest.raises(ValueError):
        log.record_feedback(first, 1, 5)
    stats = log.stats()
    assert (stats.today, stats.week, stats.users_week) == (3, 3, 2)
    assert stats.top[0] == ("加装电梯完成了多少台", 2)
    assert stats.unanswered == [("火锅店推荐", 1)]
    assert (stats.thumbs_up, stats.thumbs_down) == (0, 1)
    with Session(log.engine) as session:
        assert len(session.exec(select(Feedback)).all()) == 1


def test_today_is_counted_in_the_configured_zone(history):
    log, now = history
    now.moment = datetime(2026, 3, 9, 15, 30, tzinfo=UTC)  # 23:30 on the 9th in Shanghai
    log.record_question(1, 1, "昨天的问题", [1])
    now.moment = datetime(2026, 3, 9, 16, 30, tzinfo=UTC)  # 00:30 on the 10th in Shanghai
    log.record_question(1, 1, "今天的问题", [1])
    stats = log.stats()
    assert (stats.today, stats.week) == (1, 2)


def test_week_csv_opens_in_excel(history):
    log, _ = history
    log.record_question(1, 1, "保租房，筹集了多少套", [1])
    table = log.week_csv()
    assert table.startswith("\ufeff".encode())
    text = table.decode("utf-8-sig")
    assert text.splitlines()[0] == "时间,用户ID,类型,问题,结果数"
    assert text.splitlines()[1].endswith(",1,提问,保租房，筹集了多少套,1")


def test_retention_deletes_old_questions_and_their_feedback(history):
    log, now = history
    old = log.record_question(1, 1, "旧问题", [1])
    log.record_feedback(old.id, 1, 1)
    now.moment += timedelta(days=31)
    log.record_question(1, 1, "新问题", [1])  # the first record of a day purges
    assert log.question(old.token) is None and log.count() == 1
    with Session(log.engine) as session:
        assert session.exec(select(Feedback)).all() == []


def test_answers_get_distinct_unguessable_tokens(history):
    log, _ = history
    entries = [log.record_question(1, 1, f"问题{n}", []) for n in range(50)]
    tokens = {entry.token for entry in entries}
    assert len(tokens) == 50 and all(len(t) == 12 and not t.isdigit() for t in tokens)
    assert log.question(entries[7].token).question == "问题7"


def test_feedback_from_two_threads_at_once_is_one_vote(history):
    log, _ = history
    for round_number in range(20):
        entry = log.record_question(1, 1, f"问题{round_number}", [])
        start = threading.Barrier(2)

        def vote(entry=entry, start=start):
            start.wait()
            return log.record_feedback(entry.id, 1, 1)

        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(lambda _: vote(), range(2))) == [True, True]
    with Session(log.engine) as session:
        assert len(session.exec(select(Feedback)).all()) == 20


def test_normalized_questions_group_spellings():
    assert normalize_question("加装电梯，完成了多少台？") == normalize_question("加裝電梯 完成了多少台")
