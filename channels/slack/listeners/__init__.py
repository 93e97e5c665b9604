"""Bolt listeners, one group per module, each with `register(app, slack)` (the bolt samples' layout)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from channels.slack.channel import SlackChannel
from channels.slack.listeners import approvals, buttons, command, dedup, files, home, mentions, messages


def register_all(app: AsyncApp, slack: SlackChannel) -> None:
    dedup.register(app, slack)  # global middleware first: a redelivered event stops here
    for group in (messages, mentions, command, buttons, approvals, home, files):
        group.register(app, slack)


__all__ = ["register_all"]
