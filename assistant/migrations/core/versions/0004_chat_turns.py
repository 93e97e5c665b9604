"""Chat turns as the gateway handled them, without their text (channels.turns): the insights page's
conversations, active people and top intents; and an index on the audit log's time, which the page
reads by period.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_turns",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_chat_turns_created_at", "chat_turns", ["created_at"])
    op.create_index("ix_chat_turns_user_id", "chat_turns", ["user_id"])
    # A database whose audit tables were adopted by the baseline may have them from newer code already.
    op.create_index("ix_audit_log_at", "audit_log", ["at"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("chat_turns")
