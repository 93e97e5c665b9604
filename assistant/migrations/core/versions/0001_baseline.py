"""Baseline: every table of the release before migrations, created where missing.

Databases made by earlier releases (tables created at start-up) are adopted as they are: tables
already there are kept, and an outbox from before its delivery columns gets them (what the
outbox's own start-up upgrade used to do).

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The outbox columns added after its first release, as that release's start-up upgrade added them.
_OUTBOX_ADDED = {
    "batch_key": "VARCHAR(200)",
    "state": "VARCHAR(16) NOT NULL DEFAULT 'pending'",
    "attempts": "INTEGER NOT NULL DEFAULT 0",
    "next_attempt_at": "FLOAT NOT NULL DEFAULT 0",
    "failing_channel": "VARCHAR(16)",
    "skipped": "VARCHAR(64) NOT NULL DEFAULT ''",
    "last_error": "TEXT",
}
_OUTBOX_INDEXES = {"ix_notifications_batch_key": ["batch_key"], "ix_notifications_due": ["state", "next_attempt_at"]}
_ROW_SUFFIX = re.compile(r":(?:card:\d+|msg:\d+|update:\d+:\d+)$")


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    if "notifications" in existing:
        _adopt_outbox(bind)
    if 'approval_cards' not in existing:
        op.create_table('approval_cards',
        sa.Column('approval_id', sa.String(length=40), nullable=False),
        sa.Column('recipient', sa.String(length=64), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('card', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('approval_id', 'recipient')
        )
        op.create_index('ix_approval_cards_request_id', 'approval_cards', ['request_id'], unique=False)
    if 'notifications' not in existing:
        op.create_table('notifications',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('key', sa.String(length=240), nullable=False),
        sa.Column('recipient', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=True),
        sa.Column('approval_id', sa.String(length=40), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('card', sa.Text(), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('delivered_at', sa.Float(), nullable=True),
        sa.Column('channel', sa.String(length=16), nullable=True),
        sa.Column('batch_key', sa.String(length=200), nullable=True),
        sa.Column('state', sa.String(length=16), server_default='pending', nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', sa.Float(), server_default='0', nullable=False),
        sa.Column('failing_channel', sa.String(length=16), nullable=True),
        sa.Column('skipped', sa.String(length=64), server_default='', nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('seq'),
        sa.UniqueConstraint('key')
        )
        op.create_index('ix_notifications_batch_key', 'notifications', ['batch_key'], unique=False)
        op.create_index('ix_notifications_delivered_at', 'notifications', ['delivered_at'], unique=False)
        op.create_index('ix_notifications_due', 'notifications', ['state', 'next_attempt_at'], unique=False)
        op.create_index('ix_notifications_recipient', 'notifications', ['recipient'], unique=False)
    if 'channel_events' not in existing:
        op.create_table('channel_events',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('claimed_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key')
        )
        op.create_index('ix_channel_events_claimed_at', 'channel_events', ['claimed_at'], unique=False)
    if 'channel_links' not in existing:
        op.create_table('channel_links',
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('external_id', sa.String(length=128), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('channel', 'external_id')
        )
        op.create_index('ix_channel_links_user_id', 'channel_links', ['user_id'], unique=False)
    if 'approval_card_copies' not in existing:
        op.create_table('approval_card_copies',
        sa.Column('approval_id', sa.String(length=40), nullable=False),
        sa.Column('recipient', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('location', sa.String(length=300), nullable=False),
        sa.Column('ref', sa.Text(), nullable=False),
        sa.Column('posted_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('approval_id', 'recipient', 'channel', 'location')
        )
    if 'teams_conversations' not in existing:
        op.create_table('teams_conversations',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=True),
        sa.Column('service_url', sa.String(length=500), nullable=False),
        sa.Column('reference', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('user_id')
        )
    if 'delegations' not in existing:
        op.create_table('delegations',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('delegate', sa.String(length=64), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id')
        )
        op.create_index('ix_delegations_user', 'delegations', ['user'], unique=False)
    if 'auto_approvals' not in existing:
        op.create_table('auto_approvals',
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.Column('requester', sa.String(length=128), nullable=False),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('request_id')
        )
        op.create_index('ix_auto_approvals_requester', 'auto_approvals', ['requester'], unique=False)
    if 'revoked_tokens' not in existing:
        op.create_table('revoked_tokens',
        sa.Column('token_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=128), nullable=False),
        sa.Column('revoked_at', sa.Float(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('token_id')
        )
    if 'token_user_cutoffs' not in existing:
        op.create_table('token_user_cutoffs',
        sa.Column('user_id', sa.String(length=128), nullable=False),
        sa.Column('not_before', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('user_id')
        )
    if 'audit_head' not in existing:
        op.create_table('audit_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
    if 'audit_log' not in existing:
        op.create_table('audit_log',
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('key', sa.String(length=200), nullable=True),
        sa.Column('at', sa.String(length=40), nullable=False),
        sa.Column('event', sa.String(length=64), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=True),
        sa.Column('actor', sa.String(length=64), nullable=True),
        sa.Column('channel', sa.String(length=16), nullable=True),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('seq'),
        sa.UniqueConstraint('key')
        )
        op.create_index('ix_audit_log_request_id', 'audit_log', ['request_id'], unique=False)
    if 'calendar_events' not in existing:
        op.create_table('calendar_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('start', sa.Date(), nullable=False),
        sa.Column('end', sa.Date(), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('show_as', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key')
        )
        op.create_index('ix_calendar_events_request_id', 'calendar_events', ['request_id'], unique=False)
    if 'expense_claims' not in existing:
        op.create_table('expense_claims',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('expense_date', sa.Date(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
        sa.UniqueConstraint('key')
        )
        op.create_index('ix_expense_claims_request_id', 'expense_claims', ['request_id'], unique=False)
    if 'hr_balances' not in existing:
        op.create_table('hr_balances',
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('leave_type', sa.String(length=32), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('allowance', sa.Float(), nullable=False),
        sa.Column('taken', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('user', 'leave_type', 'year')
        )
    if 'hr_leave' not in existing:
        op.create_table('hr_leave',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('start', sa.Date(), nullable=False),
        sa.Column('end', sa.Date(), nullable=False),
        sa.Column('leave_type', sa.String(length=32), nullable=False),
        sa.Column('days', sa.Float(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key')
        )
        op.create_index('ix_hr_leave_request_id', 'hr_leave', ['request_id'], unique=False)
    if 'idp_changes' not in existing:
        op.create_table('idp_changes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.Column('group', sa.String(length=128), nullable=False),
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('at', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key')
        )
        op.create_index('ix_idp_changes_request_id', 'idp_changes', ['request_id'], unique=False)
    if 'idp_groups' not in existing:
        op.create_table('idp_groups',
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint('name')
        )
    if 'idp_members' not in existing:
        op.create_table('idp_members',
        sa.Column('group', sa.String(length=128), nullable=False),
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('added_at', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('group', 'user')
        )
    if 'itsm_tickets' not in existing:
        op.create_table('itsm_tickets',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.Column('requester', sa.String(length=64), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('priority', sa.String(length=8), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key')
        )
        op.create_index('ix_itsm_tickets_request_id', 'itsm_tickets', ['request_id'], unique=False)
    if "audit_head" not in existing:
        op.execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :genesis)")
                   .bindparams(genesis="0" * 64))


def _adopt_outbox(bind: sa.Connection) -> None:
    inspector = sa.inspect(bind)
    have = {c["name"] for c in inspector.get_columns("notifications")}
    missing = [name for name in _OUTBOX_ADDED if name not in have]
    for name in missing:
        op.execute(f"ALTER TABLE notifications ADD COLUMN {name} {_OUTBOX_ADDED[name]}")
    if "state" in missing:
        op.execute("UPDATE notifications SET state = 'delivered' WHERE delivered_at IS NOT NULL")
    if "batch_key" in missing:
        rows = bind.execute(sa.text("SELECT seq, key FROM notifications WHERE batch_key IS NULL")).all()
        if rows:
            bind.execute(sa.text("UPDATE notifications SET batch_key = :batch_key WHERE seq = :seq"),
                         [{"seq": seq, "batch_key": _ROW_SUFFIX.sub("", key)} for seq, key in rows])
    indexes = {i["name"] for i in inspector.get_indexes("notifications")}
    for name, columns in _OUTBOX_INDEXES.items():
        if name not in indexes:
            op.create_index(name, "notifications", columns, unique=False)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore a backup instead")
