"""The SQLite store: engine creation and schema."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine, Table, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine

from index.store.models import Document, IndexState, Passage, Target

INDEX_TABLES = [Document.__table__, IndexState.__table__, Passage.__table__, Target.__table__]


def create_store_engine(url: str) -> Engine:
    """Return an engine for the index store at ``url`` with the index tables created."""
    return open_database(url, INDEX_TABLES)


def open_database(url: str, tables: Sequence[Table]) -> Engine:
    """Return an engine for ``url`` with ``tables`` created (those of the caller only).

    For SQLite files the parent folder is created, and each connection uses WAL
    journaling (readers are not blocked by a writer) and waits up to 30 s for a lock
    instead of failing at once.
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
    # Only the caller's own tables: each owner (index, question log) creates its own.
    SQLModel.metadata.create_all(engine, tables=list(tables))
    return engine


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
