"""The question log: what staff asked, what they got, and their feedback.

Stored in a database of its own (``[history] url``), apart from the index store, so a
reload writing the index never holds up logging a question. Rows older than the
retention setting are deleted at startup and then once a day.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import UniqueConstraint, delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, func, select

from bot.config import HistorySettings
from index.api import index_form, open_database

TOP_QUERIES = 10
LOG_DATABASE = "提问记录数据库"
LOG_REBUILD_HINT = "然后重启机器人，会新建空的提问记录"
# Buttons carry a random token, not the row id: ids are sequential and guessable.
TOKEN_BYTES = 9  # 12 URL-safe characters
_NOT_WORD = re.compile(r"[\s\W_]+")


class QuestionLog(SQLModel, table=True):
    """One question (free text, /ask) or figure lookup (/target) and its outcome.

    ``token`` is the random handle the answer's buttons carry; ``asked_at`` is UTC;
    ``normalized`` groups spellings of the same question for statistics; ``results`` is
    a JSON list of the passage ids (or target ids) returned.
    """

    __tablename__ = "question_log"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(default_factory=lambda: secrets.token_urlsafe(TOKEN_BYTES), unique=True, index=True)
    asked_at: datetime = Field(index=True)
    user_id: int = Field(index=True)
    chat_id: int
    kind: str = "ask"
    question: str
    normalized: str = Field(index=True)
    hit_count: int
    results: str = "[]"


class Feedback(SQLModel, table=True):
    """A 👍 (+1) or 👎 (-1) on an answer; one per user and question (the last counts)."""

    __tablename__ = "answer_feedback"
    __table_args__ = (UniqueConstraint("question_id", "user_id"), {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question_log.id", index=True)
    user_id: int
    value: int
    created_at: datetime


@dataclass(frozen=True)
class UsageStats:
    """What /stats shows.

    Attributes:
        today, week: questions asked today (in the configured zone) and in 7 days.
        users_week: distinct users in 7 days.
        top: most asked questions in 7 days, (question, count).
        unanswered: questions that found nothing in 7 days, (question, count).
        thumbs_up, thumbs_down: feedback in 7 days.
    """

    today: int
    week: int
    users_week: int
    top: list[tuple[str, int]]
    unanswered: list[tuple[str, int]]
    thumbs_up: int
    thumbs_down: int


class QuestionHistory:
    """Record questions and feedback, report usage, enforce retention.

    Args:
        settings: the log's database URL, retention and time zone (tables are created
            if missing).
        now: returns the current UTC time (injectable for tests).

    Raises:
        StoreError: the log's database cannot be opened or created.
    """

    def __init__(self, settings: HistorySettings, now=lambda: datetime.now(UTC)) -> None:
        tables = [QuestionLog.__table__, Feedback.__table__]
        self.engine = open_database(settings.url, tables, LOG_DATABASE, LOG_REBUILD_HINT)
        self.settings = settings
        self.now = now
        self.zone = ZoneInfo(settings.timezone)
        self._last_purge: datetime | None = None

    def record_question(
        self,
        user_id: int,
        chat_id: int,
        question: str,
        results: list[int],
        kind: str = "ask",
        found: int | None = None,
    ) -> QuestionLog:
        """Store a question with the ids it returned; return the stored entry, whose
        ``token`` the answer's buttons carry.

        ``found`` overrides the hit count when the results are not passages (/target).
        """
        self._purge_daily()
        entry = QuestionLog(
            asked_at=self.now(),
            user_id=user_id,
            chat_id=chat_id,
            kind=kind,
            question=question,
            normalized=normalize_question(question),
            hit_count=len(results) if found is None else found,
            results=json.dumps(results),
        )
        with Session(self.engine) as session:
            session.add(entry)
            session.commit()
            session.refresh(entry)
            return entry

    def question(self, token: str) -> QuestionLog | None:
        """Return the logged question a button's token refers to, or None if unknown or purged."""
        with Session(self.engine) as session:
            return session.exec(select(QuestionLog).where(QuestionLog.token == token)).first()

    def record_feedback(self, question_id: int, user_id: int, value: int) -> bool:
        """Store 👍 (+1) or 👎 (-1) for a question; a user's later vote replaces the earlier.

        One statement (an upsert), so two presses at the same moment leave one vote.
        Returns False when the question is no longer in the log.

        Raises:
            ValueError: ``value`` is not +1 or -1.
        """
        if value not in (1, -1):
            raise ValueError(f"feedback must be +1 or -1, got {value}")
        insert = {"postgresql": postgresql_insert}.get(self.engine.dialect.name, sqlite_insert)
        row = {"question_id": question_id, "user_id": user_id, "value": value, "created_at": self.now()}
        statement = insert(Feedback).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=["question_id", "user_id"],
            set_={"value": statement.excluded.value, "created_at": statement.excluded.created_at},
        )
        try:
            with Session(self.engine) as session:
                session.exec(statement)
                session.commit()
        except IntegrityError:  # the question was purged meanwhile (foreign key)
            return False
        return True

    def stats(self) -> UsageStats:
        """Return usage for today and the last 7 days."""
        now = self.now()
        local_midnight = now.astimezone(self.zone).replace(hour=0, minute=0, second=0, microsecond=0)
        today_start = local_midnight.astimezone(UTC)
        week_start = now - timedelta(days=7)
        with Session(self.engine) as session:
            week = session.exec(select(QuestionLog).where(QuestionLog.asked_at >= week_start)).all()
            votes = session.exec(select(Feedback.value).where(Feedback.created_at >= week_start)).all()
        today = [q for q in week if _aware(q.asked_at) >= today_start]
        return UsageStats(
            today=len(today),
            week=len(week),
            users_week=len({q.user_id for q in week}),
            top=_most_common(week),
            unanswered=_most_common([q for q in week if q.hit_count == 0]),
            thumbs_up=sum(1 for v in votes if v > 0),
            thumbs_down=sum(1 for v in votes if v < 0),
        )

    def week_csv(self) -> bytes:
        """Return the last 7 days' questions as CSV (UTF-8 with BOM, opens in Excel)."""
        week_start = self.now() - timedelta(days=7)
        with Session(self.engine) as session:
            rows = session.exec(
                select(QuestionLog).where(QuestionLog.asked_at >= week_start).order_by(QuestionLog.asked_at)
            ).all()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["时间", "用户ID", "类型", "问题", "结果数"])
        for row in rows:
            asked = _aware(row.asked_at).astimezone(self.zone).strftime("%Y-%m-%d %H:%M")
            kind = "查数" if row.kind == "target" else "提问"
            writer.writerow([asked, row.user_id, kind, row.question, row.hit_count])
        return buffer.getvalue().encode("utf-8-sig")

    def purge(self) -> int:
        """Delete questions (and their feedback) older than the retention; return how many."""
        cutoff = self.now() - timedelta(days=self.settings.retention_days)
        with Session(self.engine) as session:
            old = select(QuestionLog.id).where(QuestionLog.asked_at < cutoff)
            session.exec(delete(Feedback).where(Feedback.question_id.in_(old)))
            removed = session.exec(delete(QuestionLog).where(QuestionLog.asked_at < cutoff)).rowcount
            session.commit()
        self._last_purge = self.now()
        return removed

    def count(self) -> int:
        """Number of logged questions."""
        with Session(self.engine) as session:
            return session.exec(select(func.count()).select_from(QuestionLog)).one()

    def _purge_daily(self) -> None:
        if self._last_purge is None or self.now() - self._last_purge > timedelta(days=1):
            self.purge()


def normalize_question(question: str) -> str:
    """Return a question folded for grouping: simplified, lower-case, no punctuation."""
    return _NOT_WORD.sub("", index_form(question).lower())


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; ours are stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _most_common(entries: list[QuestionLog]) -> list[tuple[str, int]]:
    counts = Counter(q.normalized for q in entries)
    latest = {q.normalized: q.question for q in entries}
    return [(latest[key], count) for key, count in counts.most_common(TOP_QUERIES)]
