"""The workflow worker: builds clients from settings and registers every workflow and activity."""

from __future__ import annotations

import asyncio
import logging
import signal

from temporalio.client import Client
from temporalio.worker import Worker

from assistant.settings import Settings
from workflows.client import connect
from workflows.request_workflow import RequestWorkflow

log = logging.getLogger(__name__)


def build_worker(client: Client, settings: Settings, *, task_queue: str | None = None) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.temporal.task_queue,
        workflows=[RequestWorkflow],
        activities=[],
    )


async def run_worker(settings: Settings) -> None:
    client = await connect(settings.temporal)
    worker = build_worker(client, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker.started task_queue=%s address=%s", settings.temporal.task_queue, settings.temporal.address)
    async with worker:
        await stop.wait()
    log.info("worker.stopped")
