"""The gateway's notification side: the SQL outbox, the channel notifiers and their dispatcher."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine

from assistant.audit import AuditLog
from assistant.audit_keys import audit_files
from assistant.directory import Directory
from assistant.settings import Settings
from channels.notify.base import Notifier
from channels.notify.dispatcher import Dispatcher
from channels.notify.web import WebNotifier
from workflows.delegations import Delegations
from workflows.notify.outbox import Outbox

log = logging.getLogger(__name__)


class NotifyHub:
    """Built once per gateway; `start` runs the dispatcher until `stop`."""

    def __init__(self, settings: Settings, engine: Engine, directory: Directory, *,
                 extra: list[Notifier] | None = None) -> None:
        self.outbox = Outbox(engine)
        self.delegations = Delegations(engine)
        self.audit = AuditLog(engine, files=audit_files(settings))
        self.web = WebNotifier()
        notify = settings.notify
        self.dispatcher = Dispatcher(self.outbox, directory, [self.web, *(extra or [])],
                                     poll_seconds=settings.workflows.notify_poll_seconds, settings=notify)
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self.dispatcher.run(self._stop), name="notify-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._stop.set()
            await self._task
            self._task = None
