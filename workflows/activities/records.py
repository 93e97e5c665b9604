"""Activities that record and tell: the audit trail and the notification outbox."""

from __future__ import annotations

import asyncio

from temporalio import activity

from assistant.audit import AuditLog
from workflows.activities.models import AUDIT, NOTIFY, AuditInput, AuditOutput, NotifyOutput
from workflows.notify.models import NotifyBatch
from workflows.notify.outbox import Outbox


class AuditActivities:
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    @activity.defn(name=AUDIT)
    async def record(self, inp: AuditInput) -> AuditOutput:
        record = await asyncio.to_thread(
            self.audit.append, inp.event, request_id=inp.request_id, actor=inp.actor, channel=inp.channel,
            data=inp.data, key=inp.key, at=inp.at)
        return AuditOutput(seq=record.seq)


class NotifyActivities:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    @activity.defn(name=NOTIFY)
    async def deliver(self, batch: NotifyBatch) -> NotifyOutput:
        return NotifyOutput(posted=await asyncio.to_thread(self.outbox.post, batch))
