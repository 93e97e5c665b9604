"""One person's failing channel must not stall everyone: fair rounds, backoff, fallback, dead letters."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from assistant.settings.notify import NotifySettings
from channels.metrics import DeliveryMetrics
from channels.notify.dispatcher import Dispatcher
from tests.channels.notify.conftest import FakeNotifier
from workflows.notify.models import (
    ApprovalCard,
    CardOut,
    CardStatus,
    CardUpdate,
    DeliveryState,
    MessageOut,
    NotifyBatch,
)


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def message(key: str, recipient: str, text: str = "hello") -> NotifyBatch:
    return NotifyBatch(key=key, messages=[MessageOut(recipient=recipient, text=text)])


def state_of(outbox, seq: int):
    return next(d for s in DeliveryState for d in outbox.deliveries(s, limit=1000) if d.seq == seq)


async def test_two_hundred_stuck_notes_for_alice_do_not_stall_carol(outbox, directory):
    for i in range(200):
        outbox.post(message(f"REQ-A:notify:{i}", "alice"))
    outbox.post(message("REQ-C:notify:1", "carol", "your laptop is ready"))
    slack, web = FakeNotifier("slack", failing=True), FakeNotifier("web")
    clock = Clock()
    dispatcher = Dispatcher(outbox, directory, [slack, web], settings=NotifySettings(), clock=clock)

    assert await dispatcher.dispatch_once() == 1  # carol's note goes out in the very first round
    [carol] = [d for d in outbox.deliveries(DeliveryState.DELIVERED) if d.recipient == "carol"]
    assert carol.channel == "web" and web.calls == [(carol.seq, "carol")]
    assert len(slack.calls) == 5  # alice's share of the round, not the whole round

    for _ in range(4):  # four more rounds, 0.5 s apart (the dispatcher's poll interval)
        clock.now += 0.5
        await dispatcher.dispatch_once()
    assert len(slack.calls) == 5 * 5  # was 1,000: every row, every round
    # A failed row waits 1 s, then 2 s: in these 2 s none was tried more than twice.
    assert max(Counter(slack.calls).values()) == 2


async def test_rounds_are_fair_across_recipients(outbox, directory):
    for i in range(10):
        outbox.post(message(f"REQ-A:notify:{i}", "alice"))
    for i in range(10):
        outbox.post(message(f"REQ-C:notify:{i}", "carol"))
    due = outbox.due(now=2e9, limit=6, per_recipient=5)
    assert [n.recipient for n, _ in due] == ["alice", "carol"] * 3  # everyone's first before anyone's second
    assert outbox.due(now=2e9, limit=100, per_recipient=5)[-1][0].recipient == "carol"
    assert len(outbox.due(now=2e9, limit=100, per_recipient=5)) == 10


async def test_a_failing_row_backs_off_exponentially_up_to_the_cap(outbox, directory):
    outbox.post(message("REQ-A:notify:1", "alice"))
    slack = FakeNotifier("slack", failing=True)
    clock = Clock()
    [(note, _)] = outbox.due(now=clock.now)
    seq = note.seq
    settings = NotifySettings(retry_base_seconds=1, retry_cap_seconds=10, attempts_per_channel=8)
    dispatcher = Dispatcher(outbox, directory, [slack, FakeNotifier("web")], settings=settings, clock=clock)

    waits = []
    for _ in range(7):
        await dispatcher.dispatch_once()
        row = state_of(outbox, seq)
        waits.append(row.next_attempt_at - clock.now)
        clock.now = row.next_attempt_at - 0.01  # just before it is due: no attempt
        await dispatcher.dispatch_once()
        clock.now = row.next_attempt_at
    assert waits == [1, 2, 4, 8, 10, 10, 10]
    assert len(slack.calls) == 7
    row = state_of(outbox, seq)
    assert row.state is DeliveryState.PENDING and row.attempts == 7 and row.failing_channel == "slack"
    assert row.last_error == "slack: ConnectionError: slack is down"


async def test_after_n_failures_the_next_channel_takes_over(outbox, directory):
    outbox.post(message("REQ-A:notify:1", "alice"))
    slack, web = FakeNotifier("slack", failing=True), FakeNotifier("web")
    clock = Clock()
    dispatcher = Dispatcher(outbox, directory, [slack, web],
                            settings=NotifySettings(attempts_per_channel=3), clock=clock)
    for _ in range(4):
        await dispatcher.dispatch_once()
        clock.now += 3600
    assert len(slack.calls) == 3 and len(web.calls) == 1
    [row] = outbox.deliveries(DeliveryState.DELIVERED)
    assert row.channel == "web" and row.skipped == ["slack"]


async def test_when_every_channel_keeps_failing_the_note_becomes_a_dead_letter(outbox, directory):
    outbox.post(message("REQ-A:notify:1", "alice"))
    slack, teams = FakeNotifier("slack", failing=True), FakeNotifier("teams", failing=True)
    clock = Clock()
    registry = CollectorRegistry()
    dispatcher = Dispatcher(outbox, directory, [slack, teams], settings=NotifySettings(attempts_per_channel=3),
                            clock=clock, metrics=DeliveryMetrics.in_registry(registry))
    for _ in range(10):
        await dispatcher.dispatch_once()
        clock.now += 3600
    assert len(slack.calls) == 3 and len(teams.calls) == 3  # then nothing more: it is given up on
    [row] = outbox.deliveries(DeliveryState.DEAD)
    assert row.recipient == "alice" and row.skipped == ["slack", "teams"]
    assert row.last_error == "teams: ConnectionError: teams is down"
    assert outbox.due(now=clock.now + 1e6) == []
    assert registry.get_sample_value("aios_notify_dead_letters_total", {"kind": "message"}) == 1


async def test_a_card_update_reaches_the_working_channels_while_one_fails(outbox, directory):
    card = ApprovalCard(approval_id="REQ-A-1", request_id="REQ-A", kind="access", requester="carol",
                        title="Carol asks for access", params_hash="0123456789abcdef")
    outbox.post(NotifyBatch(key="REQ-A:notify:1", cards=[CardOut(recipient="alice", card=card)]))
    slack, web = FakeNotifier("slack"), FakeNotifier("web")
    clock = Clock()
    dispatcher = Dispatcher(outbox, directory, [slack, web],
                            settings=NotifySettings(attempts_per_channel=2), clock=clock)
    await dispatcher.dispatch_once()
    slack.failing = True
    outbox.post(NotifyBatch(key="REQ-A:notify:2", updates=[CardUpdate(
        approval_id="REQ-A-1", status=CardStatus.APPROVED, decided_by="bob",
        decided_at=datetime(2025, 1, 1, tzinfo=UTC))]))
    for _ in range(3):
        await dispatcher.dispatch_once()
        clock.now += 3600
    [update] = outbox.deliveries(DeliveryState.DEAD)
    assert update.kind == "card_update" and update.last_error.startswith("slack:")
    assert [seq for seq, _ in web.calls].count(update.seq) == 2  # the web copy was redrawn despite Slack


async def test_a_recipient_missing_from_the_directory_is_a_dead_letter(outbox, directory):
    outbox.post(message("REQ-A:notify:1", "mallory"))
    dispatcher = Dispatcher(outbox, directory, [FakeNotifier("web")], settings=NotifySettings(), clock=Clock())
    await dispatcher.dispatch_once()
    [row] = outbox.deliveries(DeliveryState.DEAD)
    assert row.recipient == "mallory" and "not in the directory" in row.last_error


async def test_the_gauges_show_what_waits_and_the_histogram_how_late_it_went_out(outbox, directory):
    registry = CollectorRegistry()
    for i in range(2):
        outbox.post(message(f"REQ-A:notify:{i}", "alice"))  # slack first, and slack is down
    outbox.post(message("REQ-C:notify:1", "carol"))  # the web inbox
    clock = Clock(time.time() + 30)  # the dispatcher comes 30 s after the worker wrote them
    dispatcher = Dispatcher(outbox, directory, [FakeNotifier("slack", failing=True), FakeNotifier("web")],
                            settings=NotifySettings(), clock=clock, metrics=DeliveryMetrics.in_registry(registry))

    def local(name: str, **labels: str) -> float:  # this dispatcher's figures, whatever else runs here
        return registry.get_sample_value(name, labels) or 0.0

    assert await dispatcher.dispatch_once() == 1
    assert local("aios_notify_outbox_pending") == 3  # counted as the round began
    assert 30 <= local("aios_notify_outbox_oldest_pending_seconds") < 40
    assert local("aios_notify_delivered_total", channel="web") == 1
    assert 30 <= local("aios_notify_delivery_lag_seconds_sum", channel="web", kind="message") < 40
    assert local("aios_notify_delivery_failures_total", channel="slack") == 2

    clock.now += 10  # the next count: alice's two still wait, ten seconds older
    await dispatcher.dispatch_once()
    assert local("aios_notify_outbox_pending") == 2
    assert 40 <= local("aios_notify_outbox_oldest_pending_seconds") < 50
