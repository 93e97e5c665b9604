"""The web widget's notifier: the inbox is the channel; the widget reads it over the API."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from assistant.directory import User
from workflows.notify.models import Notification


class WebNotifier:
    channel = "web"

    def __init__(self) -> None:
        self._waiters: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def deliver(self, notification: Notification, user: User) -> None:
        # Nothing to push: wake any long-polling widget of this user.
        event = self._waiters.pop(user.id, None)
        if event is not None:
            event.set()

    async def wait(self, user_id: str, timeout: float) -> None:
        """Long-poll helper: returns when something was delivered to the user, or after `timeout`."""
        try:
            await asyncio.wait_for(self._waiters[user_id].wait(), timeout)
        except TimeoutError:
            pass
