"""A real outbox (SQLite and PostgreSQL), a small directory, and notifiers that record or fail like an outage."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.directory import Directory, User
from tests.dbs import migrated
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
def outbox(database_url) -> Outbox:
    """On SQLite and on PostgreSQL."""
    return Outbox(migrated(database_url))


@pytest.fixture
def directory() -> Directory:
    return Directory([
        User(id="alice", name="Alice Martin", email="alice@example.com", preferred_channel="slack"),
        User(id="carol", name="Carol Diaz", email="carol@example.com", preferred_channel="web"),
    ])
