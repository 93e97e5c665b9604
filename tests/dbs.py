"""Databases for the store tests: SQLite files and a real PostgreSQL server, migrated like production.

`database_url` (tests/conftest.py) runs a test once on each engine; `postgres` is one throwaway
cluster per test process, started by the project's own `app.engines.LocalPostgres`.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from app.engines import LocalPostgres
from assistant import schema
from assistant.db import make_engine

ENGINES = ("sqlite", "postgresql")
# Engines `migrated` made during the current test; the `database_url` fixture disposes of them
# (an engine left to the garbage collector closes its PostgreSQL connections with a warning).
made: list[Engine] = []


def fresh_url(kind: str, tmp_path, postgres: LocalPostgres | None) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}"
    assert postgres is not None
    return postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")


def migrated(url: str, *areas: schema.Area) -> Engine:
    """An engine on `url` with the schema of `areas` (default: core) at head."""
    engine = make_engine(url)
    made.append(engine)
    for area in areas or ("core",):
        schema.upgrade(engine, area)
    return engine


def dispose_all() -> None:
    while made:
        made.pop().dispose()
