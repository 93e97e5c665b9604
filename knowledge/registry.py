"""The document registry (SQLAlchemy): each document's current version, groups and who changed it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
    text,
)
from sqlalchemy.engine import make_url

from assistant import schema
from assistant.db import make_engine, upsert, writing
from knowledge.models import DocumentInfo

metadata = MetaData()

documents = Table(
    "knowledge_documents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(500), nullable=False),
    Column("filename", String(500), nullable=False),
    Column("media_type", String(200), nullable=False),
    Column("groups", String(2000), nullable=False),
    Column("version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200), nullable=False),
)

state = Table(
    "knowledge_state",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", String(2000), nullable=False),
)


REVISION = "revision"
# pg_advisory_lock key of the knowledge writer ("aiok" in ASCII).
WRITER_LOCK_KEY = 0x61696F6B


def registry_url(database_url: str | None, directory: Path) -> str:
    if database_url and make_url(database_url).get_backend_name() == "postgresql":
        return database_url
    return f"sqlite:///{directory / 'registry.db'}"


def now() -> datetime:
    return datetime.now(UTC)


class Registry:
    """Only the store (the one writer) changes it; reads are cheap and consistent."""

    def __init__(self, engine: Engine, *, auto_upgrade: bool | None = None) -> None:
        self.engine = engine
        schema.prepare(engine, "knowledge", auto=auto_upgrade)

    @classmethod
    def open(cls, database_url: str | None, directory: Path) -> Registry:
        """The registry of the store in `directory`: in the core database when that is PostgreSQL (every
        knowledge replica shares it), else a SQLite file beside the store."""
        return cls(make_engine(registry_url(database_url, directory)))

    def close(self) -> None:
        self.engine.dispose()

    def get(self, document_id: str) -> DocumentInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(documents).where(documents.c.id == document_id)).mappings().first()
        return _info(row) if row else None

    def all(self) -> list[DocumentInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(documents).order_by(documents.c.title)).mappings().all()
        return [_info(r) for r in rows]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(documents.c.id)).all())

    def put(self, info: DocumentInfo) -> None:
        values = info.model_dump()
        values["groups"] = json.dumps(info.groups)
        with writing(self.engine) as conn:
            conn.execute(upsert(conn, documents, values, keys=["id"]))
            _bump(conn)

    def remove(self, document_id: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(delete(documents).where(documents.c.id == document_id))
            _bump(conn)

    def revision(self) -> int:
        """Grows with every change of the registry: a replica that saw another number reloads."""
        return int(self.get_state(REVISION, "0"))

    @contextmanager
    def exclusive(self, *, wait: bool = True) -> Iterator[bool]:
        """Yields True while this process is the store's only writer among every replica (PostgreSQL's
        session advisory lock); False when `wait=False` and another replica holds it. On SQLite the
        service's lock file on the store directory already makes it the only writer."""
        if self.engine.dialect.name != "postgresql":
            yield True
            return
        with self.engine.connect() as conn:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": WRITER_LOCK_KEY})
                got = True
            else:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": WRITER_LOCK_KEY}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": WRITER_LOCK_KEY})
                    conn.commit()

    def get_state(self, key: str, default: str) -> str:
        with self.engine.connect() as conn:
            row = conn.execute(select(state.c.value).where(state.c.key == key)).first()
        return row[0] if row else default

    def set_state(self, key: str, value: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(upsert(conn, state, {"key": key, "value": value}, keys=["key"]))
            _bump(conn)


def _bump(conn: Connection) -> None:
    current = conn.execute(select(state.c.value).where(state.c.key == REVISION)).scalar()
    conn.execute(upsert(conn, state, {"key": REVISION, "value": str(int(current or 0) + 1)}, keys=["key"]))


def _info(row) -> DocumentInfo:
    values = dict(row)
    values["groups"] = json.loads(values["groups"])
    for key in ("created_at", "updated_at"):
        if values[key].tzinfo is None:  # SQLite drops the zone; we only ever store UTC
            values[key] = values[key].replace(tzinfo=UTC)
    return DocumentInfo(**values)
