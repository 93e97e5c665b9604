"""A real SQLite outbox, a small directory and notifiers that record or fail like a channel in an outage."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.db import make_engine
from assistant.directory import Directory, User
from workflows.notify.models import Notification
from workflows.notify.outbox import Outbox


@dataclass
class FakeNotifier:
    """A channel's notifier: takes everything, or raises every time (an outage) when `failing`."""

    channel: str
    failing: bool = False
    calls: list[tuple[int, str]] = field(default_factory=list)

    async def deliver(self, notification: Notification, user: User) -> None:
        self.calls.append((notification.seq, user.id))
        if self.failing:
            raise ConnectionError(f"{self.channel} is down")


@pytest.fixture
def outbox(tmp_path) -> Outbox:
    return Outbox(make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")).ensure_schema()


@pytest.fixture
def directory() -> Directory:
    return Directory([
        User(id="alice", name="Alice Martin", email="alice@example.com", preferred_channel="slack"),
        User(id="carol", name="Carol Diaz", email="carol@example.com", preferred_channel="web"),
    ])
