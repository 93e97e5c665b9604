"""The SQL database (SQLite under var/ by default, PostgreSQL by URL) and its transactions."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Executable, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url


def make_engine(url: str) -> Engine:
    """An engine for `url`. SQLite gets WAL, a busy timeout and real write locks (BEGIN IMMEDIATE)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver the lock file installs (psycopg 3)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # pysqlite's own BEGIN handling is replaced by ours below (the documented SQLAlchemy recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        _wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front so read-then-write sequences (hash chain, sequence
        # numbers) serialise across processes instead of failing with "database is locked".
        mode = "IMMEDIATE" if conn.get_execution_options().get("write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _wal(cursor, *, seconds: float = 30.0) -> None:
    """Switch the database to WAL. The first switch of a new file needs it alone, and SQLite answers
    "database is locked" at once (no busy wait) when other connections open it at the same moment
    (services starting together on a fresh var/): retried until it is done or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: committed on success, rolled back on error."""
    with engine.connect().execution_options(write=True) as conn:
        with conn.begin():
            yield conn


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        with conn.begin():
            yield conn


def inserted_id(result: CursorResult) -> int:
    """The primary key of the row a single-row INSERT just created."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError("the INSERT returned no primary key")
    return int(key[0])


def upsert(conn: Connection, table: Table, values: dict[str, Any], *, keys: list[str],
           update: bool = True) -> Executable:
    """INSERT `values`, or on a conflict on `keys` update the other columns (`update=False`: keep the row).

    One statement, so two replicas writing the same row at once cannot both try to insert it.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values)
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=keys)
    return stmt.on_conflict_do_update(index_elements=keys, set_={k: v for k, v in values.items() if k not in keys})


def serialize(conn: Connection, name: str) -> None:
    """Within this write transaction, wait for every other one serialising on `name` to finish.

    For read-check-write rules (a cap, a balance): on PostgreSQL two transactions would both read
    the old total and both write; a transaction-scoped advisory lock on the name puts them one after
    the other. SQLite's writers are one at a time already (BEGIN IMMEDIATE, see `make_engine`).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name})
