"""The outbox: a repeated batch is found through an index, old rows are pruned, old databases upgrade."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, Text, event, insert

from assistant import schema
from assistant.db import make_engine
from workflows.notify.models import DeliveryState, MessageOut, NotifyBatch
from workflows.notify.outbox import Outbox


def message(key: str, recipient: str = "alice", n: int = 1) -> NotifyBatch:
    return NotifyBatch(key=key, messages=[MessageOut(recipient=recipient, text=f"note {i}") for i in range(n)])


def plans_of_post(outbox: Outbox, batch: NotifyBatch) -> list[str]:
    """SQLite's query plan of every read of `notifications` that `post(batch)` runs."""
    statements: list[tuple[str, tuple]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM notifications" in statement:
            statements.append((statement, parameters))

    event.listen(outbox.engine, "before_cursor_execute", capture)
    try:
        outbox.post(batch)
    finally:
        event.remove(outbox.engine, "before_cursor_execute", capture)
    assert statements, "post() no longer reads notifications: update this test"
    with outbox.engine.connect() as conn:
        return [" / ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
                for sql, params in statements]


def test_the_duplicate_check_uses_an_index_not_a_table_scan(outbox):
    if outbox.engine.dialect.name != "sqlite":
        pytest.skip("reads SQLite's query plans (PostgreSQL's planner scans a 150-row table on purpose)")
    for i in range(50):
        outbox.post(message(f"REQ-{i:06d}:notify:1", n=3))
    for plan in plans_of_post(outbox, message("REQ-000007:notify:1")):
        assert "SCAN notifications" not in plan and "USING" in plan, plan


def test_a_repeated_batch_adds_nothing_and_look_alike_keys_stay_apart(outbox):
    assert outbox.post(message("REQ-1:notify:1", n=2)) == 2
    assert outbox.post(message("REQ-1:notify:1", n=2)) == 0  # the activity's retry
    assert outbox.post(message("REQ-1:notify:12")) == 1  # shares a string prefix, not the batch
    assert outbox.post(message("REQ_1:notify:1")) == 1  # `_` and `%` are no wildcards
    assert outbox.post(message("REQ%1:notify:1")) == 1
    assert outbox.post(message("REQ-1:notify")) == 1
    assert len(outbox.inbox("alice")) == 6


def test_delivered_rows_are_pruned_after_the_retention_period(outbox):
    for i in range(6):
        outbox.post(message(f"REQ-1:notify:{i}"))
    seqs = [n.seq for n in outbox.inbox("alice")]
    now = time.time()
    long_ago = now - 40 * 86400
    for seq in seqs[:3]:
        outbox.mark_delivered(seq, "web", now=long_ago)
    outbox.mark_delivered(seqs[3], "web", now=now - 3600)  # recent
    outbox.mark_dead(seqs[4], error="slack: down")  # dead letters stay for admins
    outbox.mark_delivered(seqs[5], "web", now=long_ago)  # the newest row always stays (its seq)

    assert outbox.prune(delivered_before=now - 30 * 86400, chunk=2) == 3
    assert [n.seq for n in outbox.inbox("alice")] == seqs[3:]
    assert outbox.prune(delivered_before=now - 30 * 86400) == 0
    outbox.post(message("REQ-1:notify:9"))
    assert outbox.inbox("alice")[-1].seq > seqs[-1]  # no seq handed out twice: widgets poll `after=N`


OLD_SCHEMA = MetaData()
Table(  # the outbox as the first release made it
    "notifications", OLD_SCHEMA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("key", String(240), nullable=False, unique=True),
    Column("recipient", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("request_id", String(32), nullable=True),
    Column("approval_id", String(40), nullable=True),
    Column("text", Text, nullable=False, default=""),
    Column("card", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True, index=True),
    Column("channel", String(16), nullable=True),
)


@pytest.fixture
def old_engine(tmp_path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    OLD_SCHEMA.create_all(engine)
    rows = [dict(key="REQ-1:notify:1:msg:0", recipient="alice", kind="message", text="sent", created_at=1.0,
                 delivered_at=2.0, channel="slack"),
            dict(key="REQ-1:notify:2:update:0:1", recipient="bob", kind="card_update", text="", created_at=1.0,
                 delivered_at=None, channel=None),
            dict(key="REQ-1:notify:3:card:0", recipient="carol", kind="card", text="", created_at=1.0,
                 delivered_at=None, channel=None)]
    with engine.begin() as conn:
        conn.execute(insert(OLD_SCHEMA.tables["notifications"]), rows)
    return engine


def test_an_outbox_of_the_first_release_is_upgraded_in_place_by_the_migrations(old_engine):
    schema.upgrade(old_engine, "core")  # the baseline migration adopts the old tables
    schema.upgrade(old_engine, "core")  # every service checks at start-up: a no-op the second time
    outbox = Outbox(old_engine)

    assert [d.seq for d in outbox.deliveries(DeliveryState.DELIVERED)] == [1]
    assert sorted((n.recipient, d.attempts) for n, d in outbox.due(now=time.time())) == [("bob", 0), ("carol", 0)]
    for key in ("REQ-1:notify:1", "REQ-1:notify:2", "REQ-1:notify:3"):
        assert outbox.post(message(key)) == 0  # batches posted before the upgrade are still recognised
    for plan in plans_of_post(outbox, message("REQ-1:notify:4")):
        assert "SCAN notifications" not in plan, plan
