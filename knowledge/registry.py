"""The document registry (SQLAlchemy): each document's current version, groups and who changed it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)

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


def now() -> datetime:
    return datetime.now(UTC)


class Registry:
    """Only the store (the one writer) changes it; reads are cheap and consistent."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    @classmethod
    def open(cls, url: str | None, directory: Path) -> Registry:
        if url is None:
            directory.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{directory / 'registry.db'}"
        engine = create_engine(url, future=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return cls(engine)

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
        with self.engine.begin() as conn:
            if conn.execute(select(documents.c.id).where(documents.c.id == info.id)).first():
                conn.execute(update(documents).where(documents.c.id == info.id).values(**values))
            else:
                conn.execute(insert(documents).values(**values))

    def remove(self, document_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(documents).where(documents.c.id == document_id))

    def get_state(self, key: str, default: str) -> str:
        with self.engine.connect() as conn:
            row = conn.execute(select(state.c.value).where(state.c.key == key)).first()
        return row[0] if row else default

    def set_state(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            if conn.execute(select(state.c.key).where(state.c.key == key)).first():
                conn.execute(update(state).where(state.c.key == key).values(value=value))
            else:
                conn.execute(insert(state).values(key=key, value=value))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _info(row) -> DocumentInfo:
    values = dict(row)
    values["groups"] = json.loads(values["groups"])
    for key in ("created_at", "updated_at"):
        if values[key].tzinfo is None:  # SQLite drops the zone; we only ever store UTC
            values[key] = values[key].replace(tzinfo=UTC)
    return DocumentInfo(**values)
