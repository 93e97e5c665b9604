"""The outbox's delivery lease: which gateway replica holds a row, and until when.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("lease_owner", sa.String(length=64), nullable=True))
    op.add_column("notifications", sa.Column("lease_until", sa.Float(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
