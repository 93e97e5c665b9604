"""Moves notifications from the outbox to each recipient's channel (runs inside the gateway)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.directory import Directory, User
from assistant.settings.notify import NotifySettings
from channels.metrics import DELIVERY, DeliveryMetrics
from channels.notify.base import Notifier, Undeliverable
from workflows.notify.models import Delivery, Notification
from workflows.notify.outbox import Outbox

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0
# The outbox gauges are a count over pending rows: often enough for an alert, not every round.
BACKLOG_EVERY_SECONDS = 5.0


@dataclass(frozen=True)
class _Failed:
    channel: str
    error: str


class Dispatcher:
    """The recipient's preferred channel when a notifier serves it and reaches them, else the next one.

    A channel that fails (an outage, not `Undeliverable`) is retried with exponential backoff, per
    notification; after `attempts_per_channel` failures in a row the person's next channel takes
    over, and when none is left the notification becomes a dead letter for admins to see.
    """

    def __init__(self, outbox: Outbox, directory: Directory, notifiers: list[Notifier], *,
                 poll_seconds: float = 0.5, settings: NotifySettings | None = None,
                 clock: Callable[[], float] = time.time, metrics: DeliveryMetrics = DELIVERY) -> None:
        self.outbox = outbox
        self.directory = directory
        self.notifiers = {n.channel: n for n in notifiers}
        self.poll_seconds = poll_seconds
        self.settings = settings or NotifySettings()
        self.clock = clock
        self.metrics = metrics
        # Names this replica in the outbox's leases (host, process, and a nonce for restarts).
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._backlog_at: float | None = None

    def channel_for(self, user_id: str) -> str:
        user = self.directory.find(user_id)
        return self.channels_for(user)[0] if user else "web"

    def channels_for(self, user: User) -> list[str]:
        """The preferred channel, then the other chat channels, then the web inbox (which always works)."""
        order = [user.preferred_channel, *sorted(c for c in self.notifiers if c != "web"), "web"]
        return [c for c in dict.fromkeys(order) if c in self.notifiers]

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failure in a row: base, 2*base, 4*base, ... up to the cap."""
        s = self.settings
        return min(s.retry_cap_seconds, s.retry_base_seconds * 2.0 ** min(attempts - 1, 60))

    async def _deliver(self, note: Notification, user: User, skipped: list[str]) -> str | _Failed | None:
        """The channel that took `note`, the failure to retry, or None when no channel can reach the person.

        A card update goes to every channel (each updates the copies of the card it holds; a failing
        one does not hold up the others); anything else to the first channel that can reach the person.
        """
        chain = [c for c in self.channels_for(user) if c not in skipped]
        failed: _Failed | None = None
        for channel in chain:
            try:
                await self.notifiers[channel].deliver(note, user)
            except Undeliverable as exc:
                log.info("notify.fallback seq=%s channel=%s reason=%s", note.seq, channel, exc)
                continue
            except Exception as exc:
                log.warning("notify.delivery_failed seq=%s channel=%s", note.seq, channel, exc_info=True)
                self.metrics.failures.labels(channel=channel).inc()
                failed = failed or _Failed(channel, f"{channel}: {type(exc).__name__}: {exc}")
                if note.kind == "card_update":
                    continue
                return failed
            if note.kind != "card_update":
                return channel
        if note.kind == "card_update" and chain:
            return failed or chain[0]
        return None

    async def _handle(self, note: Notification, delivery: Delivery, now: float) -> bool:
        """Try one due row and record what happened; True when it was delivered."""
        user = self.directory.find(note.recipient)
        if user is None:
            await self._dead(note, delivery, f"{note.recipient} is not in the directory")
            return False
        result = await self._deliver(note, user, delivery.skipped)
        if isinstance(result, str):
            if await asyncio.to_thread(self.outbox.mark_delivered, note.seq, result, now=now, owner=self.owner):
                self.metrics.delivered.labels(channel=result).inc()
                lag = max(0.0, self.clock() - note.created_at)
                self.metrics.lag.labels(channel=result, kind=note.kind).observe(lag)
            return True
        if result is None:
            last = f" (last failure: {delivery.last_error})" if delivery.last_error else ""
            await self._dead(note, delivery, f"no channel can reach {user.id}{last}")
            return False
        attempts = delivery.attempts + 1 if result.channel == delivery.failing_channel else 1
        if attempts < self.settings.attempts_per_channel:
            await asyncio.to_thread(self.outbox.retry_later, note.seq, at=now + self.backoff(attempts),
                                    attempts=attempts, failing_channel=result.channel, skipped=delivery.skipped,
                                    error=result.error, owner=self.owner)
            return False
        skipped = [*delivery.skipped, result.channel]
        left = [c for c in self.channels_for(user) if c not in skipped]
        if note.kind == "card_update" or not left:
            # A card update cannot move: the copies it redraws live in the failing channel.
            await self._dead(note, delivery, result.error, attempts=attempts, failing_channel=result.channel,
                             skipped=skipped)
            return False
        log.warning("notify.channel_given_up seq=%s channel=%s attempts=%d next=%s", note.seq, result.channel,
                    attempts, left[0])
        await asyncio.to_thread(self.outbox.retry_later, note.seq, at=now, attempts=0, failing_channel=None,
                                skipped=skipped, error=result.error, owner=self.owner)
        return False

    async def _dead(self, note: Notification, delivery: Delivery, error: str, *, attempts: int | None = None,
                    failing_channel: str | None = None, skipped: list[str] | None = None) -> None:
        log.warning("notify.dead_letter seq=%s recipient=%s kind=%s error=%s", note.seq, note.recipient,
                    note.kind, error)
        self.metrics.dead_letters.labels(kind=note.kind).inc()
        await asyncio.to_thread(
            self.outbox.mark_dead, note.seq, error=error,
            attempts=delivery.attempts if attempts is None else attempts,
            failing_channel=failing_channel or delivery.failing_channel,
            skipped=delivery.skipped if skipped is None else skipped, owner=self.owner)

    async def dispatch_once(self) -> int:
        """One round over the rows this replica claims (a fair share per person). Returns how many were
        delivered. Rows left when half the lease has gone (slow channels) are given back, so no row is
        still being worked on here when its lease lets another replica take it."""
        s = self.settings
        started = self.clock()
        await self.measure_backlog(started)
        claimed = await asyncio.to_thread(self.outbox.claim, self.owner, now=started, lease_seconds=s.lease_seconds,
                                          limit=s.round_size, per_recipient=s.per_recipient_per_round)
        done = 0
        for i, (note, delivery) in enumerate(claimed):
            if self.clock() - started > s.lease_seconds / 2:
                left = [n.seq for n, _ in claimed[i:]]
                await asyncio.to_thread(self.outbox.release, self.owner, left)
                log.info("notify.round_cut rows_left=%d", len(left))
                break
            done += await self._handle(note, delivery, self.clock())
        return done

    async def measure_backlog(self, now: float) -> None:
        """Refresh the outbox gauges (what waits, and for how long), at most every BACKLOG_EVERY_SECONDS."""
        if self._backlog_at is not None and now - self._backlog_at < BACKLOG_EVERY_SECONDS:
            return
        self._backlog_at = now
        pending, oldest = await asyncio.to_thread(self.outbox.backlog, now=now)
        self.metrics.pending.set(pending)
        self.metrics.oldest.set(oldest)

    async def prune(self) -> int:
        """Delete rows delivered longer ago than the retention period."""
        cutoff = self.clock() - self.settings.retention_days * 86400
        deleted = await asyncio.to_thread(self.outbox.prune, delivered_before=cutoff)
        if deleted:
            log.info("notify.pruned rows=%d", deleted)
        return deleted

    async def run(self, stop: asyncio.Event) -> None:
        log.info("notify.dispatcher_started channels=%s", ",".join(sorted(self.notifiers)))
        pruned_at: float | None = None
        while not stop.is_set():
            try:
                if pruned_at is None or time.monotonic() - pruned_at >= PRUNE_EVERY_SECONDS:
                    pruned_at = time.monotonic()
                    await self.prune()
                await self.dispatch_once()
            except Exception:
                log.exception("notify.dispatch_failed")
            try:
                await asyncio.wait_for(stop.wait(), self.poll_seconds)
            except TimeoutError:
                pass
