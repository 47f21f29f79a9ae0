"""The SQLite store: engine creation and schema."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine

from index.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)


def create_store_engine(url: str) -> Engine:
    """Return an engine for ``url`` with the tables created.

    For SQLite files the parent folder is created, and each connection uses WAL
    journaling (readers are not blocked by a reload that writes) and waits up to 30 s
    for a lock instead of failing at once.
    """
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    connect_args = {"check_same_thread": False, "timeout": 30} if is_sqlite else {}
    if is_sqlite and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    in_memory = is_sqlite and parsed.database in (None, "", ":memory:")
    # One shared connection for an in-memory database, or every session sees its own.
    pool = {"poolclass": StaticPool} if in_memory else {}
    engine = create_engine(url, connect_args=connect_args, **pool)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    SQLModel.metadata.create_all(engine)
    return engine


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
