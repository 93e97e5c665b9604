"""Conversation references, stored durably: how to reach a person (or a chat) proactively later.

Teams only lets a bot write into a conversation it knows (service URL + conversation id). Every
inbound activity from a person's personal chat refreshes their reference; approval cards and
outcomes use it, after a restart too.
"""

from __future__ import annotations

import time

from microsoft_agents.activity import ConversationReference
from sqlalchemy import Column, Engine, Float, MetaData, String, Table, Text, select

from assistant.db import reading, upsert, writing

metadata = MetaData()

teams_conversations = Table(
    "teams_conversations", metadata,
    Column("user_id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=True),
    Column("service_url", String(500), nullable=False),
    Column("reference", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)


class ConversationReferences:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, user_id: str, reference: ConversationReference, *, tenant_id: str | None) -> None:
        values = dict(tenant_id=tenant_id, service_url=reference.service_url or "",
                      reference=reference.model_dump_json(by_alias=True, exclude_none=True), updated_at=time.time())
        with writing(self.engine) as conn:
            conn.execute(upsert(conn, teams_conversations, dict(user_id=user_id, **values), keys=["user_id"]))

    def get(self, user_id: str) -> ConversationReference | None:
        with reading(self.engine) as conn:
            raw = conn.execute(select(teams_conversations.c.reference).where(
                teams_conversations.c.user_id == user_id)).scalar()
        return ConversationReference.model_validate_json(raw) if raw else None

    def any_service_url(self, tenant_id: str | None) -> str | None:
        """A service URL seen lately for this tenant (to start a chat with someone who never wrote)."""
        query = select(teams_conversations.c.service_url).order_by(teams_conversations.c.updated_at.desc()).limit(1)
        if tenant_id:
            query = query.where(teams_conversations.c.tenant_id == tenant_id)
        with reading(self.engine) as conn:
            return conn.execute(query).scalar()
