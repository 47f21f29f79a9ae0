"""The SQLite store: engine creation, schema, and store errors an operator can act on."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy import Connection, Engine, Select, Table, event, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine

from index.errors import StoreError
from index.store.models import SCHEMA_VERSION, Document, IndexState, Passage, Target

INDEX_TABLES = [Document.__table__, IndexState.__table__, Passage.__table__, Target.__table__]
SCHEMA_KEY = "schema_version"
INDEX_STORE = "索引数据库"
INDEX_REBUILD_HINT = "然后运行 bureau-bot reload 重建索引"
# Database drivers SQLAlchemy imports by URL scheme, and the package that provides each.
_DRIVER_PACKAGES = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "psycopg[binary]",
    "pymysql": "PyMySQL",
    "MySQLdb": "mysqlclient",
    "asyncpg": "asyncpg",
    "oracledb": "oracledb",
    "pyodbc": "pyodbc",
}
_CORRUPT = ("not a database", "malformed", "corrupt", "encrypted")


def create_store_engine(url: str) -> Engine:
    """Return an engine for the index store at ``url`` with the index tables created.

    A store written by an older version (another ``SCHEMA_VERSION``) is emptied: its
    tables are made again and the next open builds them from the corpus folder, the
    store being derived from the report files.

    Raises:
        StoreError: the store cannot be opened or created, is not a database, or is damaged.
    """
    engine = open_database(url, INDEX_TABLES, INDEX_STORE, INDEX_REBUILD_HINT)
    with reading(url), engine.begin() as connection:
        found = connection.execute(select(IndexState.value).where(IndexState.key == SCHEMA_KEY)).scalar()
        if found != SCHEMA_VERSION:
            SQLModel.metadata.drop_all(connection, tables=INDEX_TABLES)
            SQLModel.metadata.create_all(connection, tables=INDEX_TABLES)
            connection.execute(insert(IndexState).values(key=SCHEMA_KEY, value=SCHEMA_VERSION))
    return engine


def open_database(url: str, tables: Sequence[Table], label: str, rebuild_hint: str) -> Engine:
    """Return an engine for ``url`` with ``tables`` created (those of the caller only).

    For SQLite files the parent folder is created, and each connection uses WAL
    journaling (readers are not blocked by a writer) and waits up to 30 s for a lock
    instead of failing at once.

    Args:
        url: SQLAlchemy URL.
        tables: the caller's tables; each owner (index, question log) creates its own.
        label, rebuild_hint: how messages name this database (Chinese), and what to do
            after moving a damaged file aside.

    Raises:
        StoreError: one line naming the database and what to do (missing driver
            package, folder not writable, not a database, damaged).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(f"{label}地址无效：{url}") from error
    is_sqlite = parsed.get_backend_name() == "sqlite"
    in_memory = is_sqlite and parsed.database in (None, "", ":memory:")
    try:
        if is_sqlite and not in_memory:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": 30} if is_sqlite else {}
        # One shared connection for an in-memory database, or every session sees its own.
        pool = {"poolclass": StaticPool} if in_memory else {}
        engine = create_engine(url, connect_args=connect_args, **pool)
        if is_sqlite:
            event.listen(engine, "connect", _sqlite_pragmas)
        SQLModel.metadata.create_all(engine, tables=list(tables))
    except ImportError as error:  # create_engine imports the URL's driver
        package = _DRIVER_PACKAGES.get(error.name or "", error.name)
        raise StoreError(f"{label}需要数据库驱动 {error.name}：请先运行 pip install {package}") from error
    except NoSuchModuleError as error:
        raise StoreError(f"{label}地址的类型不受支持：{parsed.drivername}") from error
    except (OSError, SQLAlchemyError) as error:
        raise store_failure(error, url, label, rebuild_hint) from error
    return engine


def store_failure(error: Exception, url: str, label: str = INDEX_STORE, rebuild_hint: str = INDEX_REBUILD_HINT):
    """Return the one-line :class:`StoreError` for a database or file-system error."""
    location = _location(url)
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    lowered = detail.lower()
    if any(word in lowered for word in _CORRUPT):
        return StoreError(
            f"{label} {location} 已损坏或不是数据库文件（{detail}）。"
            f"请把它移到别处（例如改名为 {Path(location).name}.bad），{rebuild_hint}"
        )
    if isinstance(error, OSError) or "unable to open" in lowered:
        return StoreError(f"无法打开或创建{label} {location}（{detail}）。请检查存储地址和文件夹的写入权限")
    return StoreError(f"{label} {location} 读写出错：{detail}")


def is_damage(error: SQLAlchemyError) -> bool:
    """Whether a database error says the store file is damaged or cannot be opened
    (rather than that one statement failed)."""
    lowered = str(getattr(error, "orig", None) or error).lower()
    return any(word in lowered for word in (*_CORRUPT, "unable to open"))


@contextlib.contextmanager
def reading(url: str) -> Iterator[None]:
    """Turn database errors inside the block into a one-line :class:`StoreError`."""
    try:
        yield
    except SQLAlchemyError as error:
        raise store_failure(error, url) from error


def _location(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return parsed.database
    return parsed.render_as_string(hide_password=True)


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# Ids per statement: SQLite before 3.32 allows 999 bound parameters.
IDS_PER_STATEMENT = 500


def rows_by_ids(connection: Connection, statement: Select, ids: Sequence[int], driver: bool = True) -> list[tuple]:
    """Return the rows of ``statement`` for ``ids``: a select whose WHERE clause holds
    the expanding bind parameter ``ids`` (and no other parameter); row order is the
    database's.

    With ``driver`` and a positional driver (SQLite's), the statement is compiled once per
    number of ids and run on the driver's own cursor: SQLAlchemy's per-call statement and
    result processing cost as much as the read itself (0.25 against 0.12 ms for 20
    passages; ``exec_driver_sql`` still 0.2). Values then come as the driver returns
    them (booleans as 0 or 1), as tuples.
    """
    rows: list[tuple] = []
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        chunk = tuple(ids[start : start + IDS_PER_STATEMENT])
        sql = _driver_sql(statement, len(chunk), connection.dialect) if driver else None
        if sql is not None:
            rows += _driver_rows(connection, sql, chunk)
        else:
            rows += connection.execute(statement, {"ids": list(chunk)}).all()
    return rows


def _driver_rows(connection: Connection, sql: str, parameters: tuple) -> list[tuple]:
    """Rows of ``sql`` from the driver's cursor; the driver's errors raised as
    SQLAlchemy's (``DBAPIError``), as from ``Connection.execute``."""
    base_error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, parameters)
        return cursor.fetchall()
    except base_error as error:
        raise DBAPIError.instance(sql, parameters, error, base_error, dialect=connection.dialect) from error
    finally:
        cursor.close()


@functools.lru_cache(maxsize=256)
def _driver_sql(statement: Select, count: int, dialect) -> str | None:
    """The SQL of ``statement`` for ``count`` ids, or None when the driver's parameters
    are not positional ``?`` marks bound to the ids alone."""
    if dialect.paramstyle != "qmark":
        return None
    compiled = statement.params(ids=list(range(count))).compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    if len(compiled.positiontup or ()) != count:
        return None
    return str(compiled)
