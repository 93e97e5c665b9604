"""The SQL schema is owned by migrations (Alembic), one history per area, never by `create_all`.

Areas and their version tables (several may share one PostgreSQL database):

    core       the gateway's stores, the outbox, the audit log, delegations, the embedded connector
               systems (`assistant/migrations/core/`, version table `alembic_version`)
    knowledge  the knowledge registry (`assistant/migrations/knowledge/`, `aios_knowledge_version`)

`aios db upgrade` applies them. Services check at start-up (`prepare`): a schema behind the code is
upgraded there and then on SQLite (one machine, the embedded default) and refused on PostgreSQL
unless `AIOS_DATABASE_AUTO_UPGRADE=true`, where replicas of an older release may still be serving
and the upgrade is an operator's step (`aios db upgrade`, a Kubernetes Job). Upgrades hold a lock
(PostgreSQL advisory lock; SQLite's write lock), so replicas starting together upgrade once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from assistant.db import make_engine, writing
from assistant.errors import ConfigurationError
from assistant.settings import Settings

log = logging.getLogger(__name__)

Area = Literal["core", "knowledge"]
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLES: dict[Area, str] = {"core": "alembic_version", "knowledge": "aios_knowledge_version"}
# pg_advisory_xact_lock key: "aios" in ASCII, one lock for every area.
_LOCK_KEY = 0x61696F73


@dataclass(frozen=True)
class SchemaState:
    area: Area
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def _config(area: Area, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS / area))
    cfg.attributes["connection"] = connection
    cfg.attributes["version_table"] = VERSION_TABLES[area]
    return cfg


def head(area: Area) -> str:
    revision = ScriptDirectory.from_config(_config(area)).get_current_head()
    if revision is None:
        raise RuntimeError(f"no migrations for {area}")
    return revision


def state(engine: Engine, area: Area) -> SchemaState:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLES[area]})
        return SchemaState(area, context.get_current_revision(), head(area))


def upgrade(engine: Engine, area: Area, revision: str = "head") -> SchemaState:
    """Bring `area` up to `revision` in one transaction, under the lock; a no-op when it is there."""
    with writing(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        before = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLES[area]}).get_current_revision()
        command.upgrade(_config(area, conn), revision)
    after = state(engine, area)
    if before != after.current:
        log.info("schema.upgraded area=%s from=%s to=%s url=%s", area, before, after.current,
                 engine.url.render_as_string(hide_password=True))
    return after


def auto_upgrade(engine: Engine, setting: bool | None) -> bool:
    """Whether services may upgrade the schema themselves: the setting, else only on SQLite."""
    return engine.dialect.name == "sqlite" if setting is None else setting


def prepare(engine: Engine, area: Area, *, auto: bool | None = None) -> SchemaState:
    """At a service's start: the schema of `area` is current, or it is made so, or start-up stops."""
    found = state(engine, area)
    if found.up_to_date:
        return found
    if auto_upgrade(engine, auto):
        return upgrade(engine, area)
    where = engine.url.render_as_string(hide_password=True)
    raise ConfigurationError(
        f"the {area} schema of {where} is at revision {found.current or '(none)'}, this release needs "
        f"{found.head}: run `aios db upgrade` (or set AIOS_DATABASE_AUTO_UPGRADE=true)")


def open_database(settings: Settings, url: str | None = None) -> Engine:
    """The engine of the core database (`url` or the configured one), its schema current."""
    engine = make_engine(url or settings.core.database_url)
    prepare(engine, "core", auto=settings.core.database_auto_upgrade)
    return engine
