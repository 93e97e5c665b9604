"""Moves notifications from the outbox to each recipient's channel (runs inside the gateway)."""

from __future__ import annotations

import asyncio
import logging

from assistant.directory import Directory
from channels.notify.base import Notifier
from channels.notify.outbox import Outbox

log = logging.getLogger(__name__)


class Dispatcher:
    """The recipient's preferred channel when a notifier serves it, else the web widget."""

    def __init__(self, outbox: Outbox, directory: Directory, notifiers: list[Notifier], *,
                 poll_seconds: float = 0.5) -> None:
        self.outbox = outbox
        self.directory = directory
        self.notifiers = {n.channel: n for n in notifiers}
        self.poll_seconds = poll_seconds

    def channel_for(self, user_id: str) -> str:
        user = self.directory.find(user_id)
        preferred = user.preferred_channel if user else "web"
        return preferred if preferred in self.notifiers else "web"

    async def dispatch_once(self) -> int:
        done = 0
        for note in await asyncio.to_thread(self.outbox.undelivered):
            user = self.directory.find(note.recipient)
            if user is None:
                await asyncio.to_thread(self.outbox.mark_delivered, note.seq, "none")
                continue
            channel = self.channel_for(user.id)
            try:
                await self.notifiers[channel].deliver(note, user)
            except Exception:  # noqa: BLE001 - a channel outage must not stop the others; retried next round
                log.exception("notify.delivery_failed seq=%s channel=%s", note.seq, channel)
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
