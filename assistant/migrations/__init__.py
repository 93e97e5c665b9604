"""Alembic migration histories, one per schema area (see assistant/schema.py)."""

from __future__ import annotations

from alembic import context


def run() -> None:
    """The body of every area's env.py: migrate on the connection `assistant.schema` hands over.

    Online only (a connection in a transaction, under the upgrade lock); SQLite gets batch mode, so
    a later migration that alters a column recreates the table, as SQLite needs.
    """
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run through `aios db upgrade` (assistant.schema), not the alembic CLI")
    context.configure(connection=connection, version_table=config.attributes["version_table"],
                      render_as_batch=connection.dialect.name == "sqlite", transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
