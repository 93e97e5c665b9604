"""Several gateway replicas share one outbox: each row is claimed by one of them, delivered once,
and a replica that dies leaves its rows to the others when the lease runs out (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

from assistant.settings.notify import NotifySettings
from channels.notify.dispatcher import Dispatcher
from tests.channels.notify.conftest import FakeNotifier
from tests.dbs import migrated
from workflows.notify.models import DeliveryState, MessageOut, NotifyBatch
from workflows.notify.outbox import Outbox

PEOPLE = ("alice", "carol")


def post_many(outbox: Outbox, n: int) -> None:
    for i in range(n):
        outbox.post(NotifyBatch(key=f"REQ-{i}:notify:1",
                                messages=[MessageOut(recipient=PEOPLE[i % 2], text=f"note {i}")]))


def test_concurrent_claims_never_share_a_row(database_url):
    outbox = Outbox(migrated(database_url))
    post_many(outbox, 120)
    claimed: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def replica(name: str) -> None:
        mine = claimed.setdefault(name, [])
        own = Outbox(migrated(database_url))  # its own engine and connections, like another process
        start.wait()
        for _ in range(60):
            rows = own.claim(name, now=1e10, lease_seconds=60, limit=7, per_recipient=3)
            mine.extend(n.seq for n, _ in rows)
            time.sleep(0.01)  # delivering them: the other replicas claim meanwhile

    threads = [threading.Thread(target=replica, args=(f"gw{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = [s for rows in claimed.values() for s in rows]
    assert len(seqs) == len(set(seqs)) == 120  # every row once, none twice
    assert sum(1 for rows in claimed.values() if rows) >= 2  # the work really was shared


def test_a_dead_replicas_rows_return_after_the_lease_and_its_late_word_is_ignored(database_url):
    outbox = Outbox(migrated(database_url))
    post_many(outbox, 2)
    taken = outbox.claim("gw-dead", now=1000.0, lease_seconds=60)
    assert len(taken) == 2
    assert outbox.claim("gw-alive", now=1030.0, lease_seconds=60) == []  # still held
    retaken = outbox.claim("gw-alive", now=1061.0, lease_seconds=60)  # the lease ran out
    assert [n.seq for n, _ in retaken] == [n.seq for n, _ in taken]
    seq = taken[0][0].seq
    assert not outbox.mark_delivered(seq, "slack", now=1062.0, owner="gw-dead")  # too late: not its row now
    assert outbox.mark_delivered(seq, "web", now=1062.0, owner="gw-alive")
    [delivered] = outbox.deliveries(DeliveryState.DELIVERED)
    assert (delivered.seq, delivered.channel) == (seq, "web")
    assert outbox.release("gw-alive", [taken[1][0].seq]) == 1
    assert [n.seq for n, _ in outbox.claim("gw-other", now=1063.0, lease_seconds=60)] == [taken[1][0].seq]


async def test_two_dispatchers_deliver_every_note_exactly_once(database_url, directory):
    outbox = Outbox(migrated(database_url))
    post_many(outbox, 60)
    web = FakeNotifier("web")
    settings = NotifySettings(round_size=10, per_recipient_per_round=5)
    replicas = [Dispatcher(Outbox(migrated(database_url)), directory, [web], settings=settings) for _ in range(2)]
    assert replicas[0].owner != replicas[1].owner

    async def drain(d: Dispatcher) -> None:
        for _ in range(20):
            await d.dispatch_once()
            await asyncio.sleep(0)

    await asyncio.gather(*(drain(d) for d in replicas))
    counts = Counter(seq for seq, _ in web.calls)
    assert len(counts) == 60 and set(counts.values()) == {1}
    assert len(outbox.deliveries(DeliveryState.DELIVERED, limit=100)) == 60


async def test_a_slow_round_gives_back_what_it_cannot_finish_within_half_the_lease(database_url, directory):
    outbox = Outbox(migrated(database_url))
    post_many(outbox, 6)

    class Clock:
        now = 5000.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()

    class Slow(FakeNotifier):
        async def deliver(self, notification, user) -> None:
            await super().deliver(notification, user)
            clock.now += 20  # each delivery takes 20 s

    slow = Slow("web")
    dispatcher = Dispatcher(outbox, directory, [slow], settings=NotifySettings(lease_seconds=60), clock=clock)
    assert await dispatcher.dispatch_once() == 2  # 40 s in, half the lease is gone: the round stops
    assert len(outbox.claim("other", now=clock.now, lease_seconds=60)) == 4  # handed back at once
