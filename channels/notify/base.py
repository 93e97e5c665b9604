"""The contract every channel's notifier fulfils (web widget now; Slack and Teams plug in later)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from assistant.directory import User
from workflows.notify.models import Notification


@runtime_checkable
class Notifier(Protocol):
    channel: str

    async def deliver(self, notification: Notification, user: User) -> None:
        """Show `notification` to `user` in this channel: post a card, update every copy, send text.

        Raise to have the dispatcher try again later; return when the channel accepted it.
        Raise `Undeliverable` when this channel cannot reach the person at all (no account linked,
        no conversation): the dispatcher then falls back to their next channel.
        """
        ...


class Undeliverable(Exception):
    """This channel cannot reach this person (not a transient failure): try their next channel."""
