"""Baseline: the knowledge registry as the release before migrations made it, where missing.

Revision ID: k0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if 'knowledge_documents' not in existing:
        op.create_table('knowledge_documents',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('filename', sa.String(length=500), nullable=False),
        sa.Column('media_type', sa.String(length=200), nullable=False),
        sa.Column('groups', sa.String(length=2000), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('chunks', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
    if 'knowledge_state' not in existing:
        op.create_table('knowledge_state',
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('value', sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint('key')
        )


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore a backup instead")
