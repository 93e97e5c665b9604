"""`aios db upgrade|status`: the schema migrations of the core database and the knowledge registry."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import Engine

from assistant import schema
from assistant.db import make_engine
from assistant.settings import Settings
from knowledge.registry import registry_url

db_app = typer.Typer(no_args_is_help=True, help="Database schema: apply the migrations, show where they stand.")


def databases(settings: Settings) -> list[tuple[schema.Area, Engine]]:
    """(area, engine) for each schema: the core database, and the knowledge registry (in the core
    database on PostgreSQL, else the SQLite file beside the knowledge store)."""
    core = make_engine(settings.core.database_url)
    knowledge_dir = settings.knowledge.data_dir(settings.core.var_dir)
    knowledge_dir.mkdir(parents=True, exist_ok=True)
    registry = make_engine(registry_url(settings.core.database_url, knowledge_dir))
    return [("core", core), ("knowledge", registry)]


@db_app.command("upgrade")
def upgrade(revision: Annotated[str, typer.Option(help="core revision to reach")] = "head") -> None:
    """Apply every migration not yet applied (safe to run again, and from two places at once)."""
    for area, engine in databases(Settings.load()):
        try:
            found = schema.upgrade(engine, area, revision if area == "core" else "head")
        finally:
            engine.dispose()
        typer.echo(f"{area}: at {found.current} ({engine.url.render_as_string(hide_password=True)})")


@db_app.command("status")
def status() -> None:
    """Each schema's revision and the one this release needs; exit 1 when one is behind."""
    behind = False
    for area, engine in databases(Settings.load()):
        try:
            found = schema.state(engine, area)
        finally:
            engine.dispose()
        behind |= not found.up_to_date
        mark = "up to date" if found.up_to_date else f"behind: run `aios db upgrade` (needs {found.head})"
        typer.echo(f"{area}: {found.current or '(empty)'} {mark}")
    raise typer.Exit(1 if behind else 0)


def register(app: typer.Typer, **_: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
