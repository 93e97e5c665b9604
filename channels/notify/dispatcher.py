"""Moves notifications from the outbox to each recipient's channel (runs inside the gateway)."""

from __future__ import annotations

import asyncio
import logging

from assistant.directory import Directory, User
from channels.notify.base import Notifier, Undeliverable
from channels.notify.models import Notification
from channels.notify.outbox import Outbox

log = logging.getLogger(__name__)


class Dispatcher:
    """The recipient's preferred channel when a notifier serves it and reaches them, else the next one."""

    def __init__(self, outbox: Outbox, directory: Directory, notifiers: list[Notifier], *,
                 poll_seconds: float = 0.5) -> None:
        self.outbox = outbox
        self.directory = directory
        self.notifiers = {n.channel: n for n in notifiers}
        self.poll_seconds = poll_seconds

    def channel_for(self, user_id: str) -> str:
        user = self.directory.find(user_id)
        return self.channels_for(user)[0] if user else "web"

    def channels_for(self, user: User) -> list[str]:
        """The preferred channel, then the other chat channels, then the web inbox (which always works)."""
        order = [user.preferred_channel, *sorted(c for c in self.notifiers if c != "web"), "web"]
        return [c for c in dict.fromkeys(order) if c in self.notifiers]

    async def _deliver(self, note: Notification, user: User) -> str | None:
        """The channel that took `note`, or None to try again next round.

        A card update goes to every channel (each updates the copies of the card it holds); anything
        else to the first channel that can reach the person.
        """
        chain = self.channels_for(user)
        for channel in chain:
            try:
                await self.notifiers[channel].deliver(note, user)
            except Undeliverable as exc:
                log.info("notify.fallback seq=%s channel=%s reason=%s", note.seq, channel, exc)
                continue
            except Exception:  # noqa: BLE001 - a channel outage must not stop the others; retried next round
                log.exception("notify.delivery_failed seq=%s channel=%s", note.seq, channel)
                return None
            if note.kind != "card_update":
                return channel
        return chain[0] if note.kind == "card_update" else None

    async def dispatch_once(self) -> int:
        done = 0
        for note in await asyncio.to_thread(self.outbox.undelivered):
            user = self.directory.find(note.recipient)
            if user is None:
                await asyncio.to_thread(self.outbox.mark_delivered, note.seq, "none")
                continue
            channel = await self._deliver(note, user)
            if channel is None:
                continue
            await asyncio.to_thread(self.outbox.mark_delivered, note.seq, channel)
            done += 1
        return done

    async def run(self, stop: asyncio.Event) -> None:
        log.info("notify.dispatcher_started channels=%s", ",".join(sorted(self.notifiers)))
        while not stop.is_set():
            try:
                await self.dispatch_once()
            except Exception:  # noqa: BLE001 - e.g. the database is briefly locked; try again
                log.exception("notify.dispatch_failed")
            try:
                await asyncio.wait_for(stop.wait(), self.poll_seconds)
            except asyncio.TimeoutError:
                pass
