"""The schema belongs to the migrations: they build exactly what the code's tables declare, on SQLite
and PostgreSQL; upgrades are idempotent and safe from several processes; services refuse a schema
behind the code on PostgreSQL and say what to run."""

from __future__ import annotations

import importlib
import re
import subprocess
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import make_url

from app.local_stack import child_env, make_settings
from assistant import schema
from assistant.db import make_engine
from assistant.errors import ConfigurationError
from assistant.settings import PROJECT_DIR
from tests.dbs import made, migrated

PRODUCT = ("assistant", "channels", "actions", "knowledge", "workflows", "app")
AREA_OF_TABLE = {"knowledge_documents": "knowledge", "knowledge_state": "knowledge"}


def declared_tables() -> dict[str, MetaData]:
    """Every module-level MetaData in the product (found by reading the sources, so a new store counts)."""
    found: dict[str, MetaData] = {}
    for package in PRODUCT:
        for path in (PROJECT_DIR / package).rglob("*.py"):
            if "migrations" in path.parts or not re.search(r"^\w+ = MetaData\(\)", path.read_text(), re.M):
                continue
            module = importlib.import_module(".".join(path.relative_to(PROJECT_DIR).with_suffix("").parts))
            for value in vars(module).values():
                if isinstance(value, MetaData):
                    found[module.__name__] = value
    return found


def area_metadata(area: schema.Area) -> MetaData:
    merged = MetaData()
    for metadata in declared_tables().values():
        for table in metadata.tables.values():
            if AREA_OF_TABLE.get(table.name, "core") == area:
                table.to_metadata(merged)
    return merged


def test_every_store_module_is_seen():
    assert {"workflows.notify.outbox", "channels.dedup", "assistant.audit", "knowledge.registry",
            "workflows.connectors.embedded.schema", "assistant.revocations"} <= set(declared_tables())


@pytest.mark.parametrize("area", ["core", "knowledge"])
def test_the_migrations_build_exactly_the_declared_tables(database_url, area):
    engine = migrated(database_url, area)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        diff = compare_metadata(context, area_metadata(area))
    ignored = {schema.VERSION_TABLES[a] for a in ("core", "knowledge")}
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name in ignored)]
    assert diff == [], diff
    assert schema.state(engine, area).up_to_date


def test_upgrades_from_several_processes_at_once_apply_each_migration_once(database_url):
    errors: list[BaseException] = []
    go = threading.Barrier(4)

    def upgrade() -> None:
        engine = make_engine(database_url)
        made.append(engine)
        go.wait()
        try:
            schema.upgrade(engine, "core")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = migrated(database_url)
    assert schema.state(engine, "core").up_to_date
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM audit_head").scalar() == 1  # the baseline ran once


def test_a_schema_behind_the_code_is_upgraded_on_sqlite_and_refused_on_postgresql(database_url):
    engine = make_engine(database_url)
    made.append(engine)
    schema.upgrade(engine, "core", "0001")
    assert "lease_owner" not in {c["name"] for c in inspect(engine).get_columns("notifications")}
    if engine.dialect.name == "sqlite":
        assert schema.prepare(engine, "core").current == schema.head("core")
        return
    with pytest.raises(ConfigurationError, match=r"at revision 0001.*run `aios db upgrade`"):
        schema.prepare(engine, "core")
    assert schema.prepare(engine, "core", auto=True).up_to_date  # AIOS_DATABASE_AUTO_UPGRADE=true


def test_aios_db_upgrade_and_status(tmp_path, database_url):
    settings = make_settings(tmp_path)
    env = child_env(settings) | {"AIOS_DATABASE_URL": database_url}
    aios = str(PROJECT_DIR / ".venv" / "bin" / "aios")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([aios, "db", *args], env=env, capture_output=True, text=True, timeout=120)

    before = run("status")
    assert before.returncode == 1 and "core: (empty) behind: run `aios db upgrade`" in before.stdout
    assert run("upgrade").returncode == 0
    after = run("status")
    assert after.returncode == 0, after.stdout + after.stderr
    assert f"core: {schema.head('core')} up to date" in after.stdout
    assert f"knowledge: {schema.head('knowledge')} up to date" in after.stdout
    password = make_url(database_url).password
    if password:
        assert password not in after.stdout + run("upgrade").stdout  # URLs are shown without it
