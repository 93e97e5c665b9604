"""Tables of the embedded company systems (HR, calendar, identity, ITSM, expenses) in the SQL database."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
)

from assistant.db import writing

metadata = MetaData()

hr_balances = Table(
    "hr_balances", metadata,
    Column("user", String(64), primary_key=True),
    Column("leave_type", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("allowance", Float, nullable=False),
    Column("taken", Float, nullable=False, default=0.0),
)

hr_leave = Table(
    "hr_leave", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("request_id", String(32), nullable=False, index=True),
    Column("user", String(64), nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("leave_type", String(32), nullable=False),
    Column("days", Float, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("created_at", String(40), nullable=False),
)

calendar_events = Table(
    "calendar_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("request_id", String(32), nullable=False, index=True),
    Column("user", String(64), nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("subject", String(200), nullable=False),
    Column("show_as", String(16), nullable=False, default="oof"),
    Column("created_at", String(40), nullable=False),
)

idp_groups = Table(
    "idp_groups", metadata,
    Column("name", String(128), primary_key=True),
)

idp_members = Table(
    "idp_members", metadata,
    Column("group", String(128), primary_key=True),
    Column("user", String(64), primary_key=True),
    Column("added_at", String(40), nullable=False),
)

idp_changes = Table(
    "idp_changes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("request_id", String(32), nullable=False, index=True),
    Column("group", String(128), nullable=False),
    Column("user", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("at", String(40), nullable=False),
)

itsm_tickets = Table(
    "itsm_tickets", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("request_id", String(32), nullable=False, index=True),
    Column("requester", String(64), nullable=False),
    Column("summary", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("priority", String(8), nullable=False),
    Column("state", String(16), nullable=False, default="new"),
    Column("created_at", String(40), nullable=False),
)

expense_claims = Table(
    "expense_claims", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("request_id", String(32), nullable=False, index=True),
    Column("user", String(64), nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("category", String(32), nullable=False),
    Column("expense_date", Date, nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(16), nullable=False, default="filed"),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("key"),
)


def seed_groups(engine: Engine, *, groups: list[str]) -> None:
    """Add the identity system's groups the system catalog names and the database lacks."""
    with writing(engine) as conn:
        have = set(conn.execute(select(idp_groups.c.name)).scalars())
        missing = [g for g in groups if g not in have]
        if missing:
            conn.execute(insert(idp_groups), [{"name": g} for g in missing])
