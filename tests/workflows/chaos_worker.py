"""A worker process for the kill-the-worker tests: the real worker, whose connectors may crash the
process right after their side effect (before the activity reports back), with some probability.

Run as `python -m tests.workflows.chaos_worker QUEUE CRASH_PROBABILITY SEED`; settings come from the
environment like any service of ours.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
from dataclasses import fields

from assistant.catalog import SystemCatalog
from assistant.directory import Directory
from assistant.schema import open_database
from assistant.settings import Settings
from workflows.client import connect
from workflows.connectors import Connectors, build_connectors
from workflows.worker import build_worker

EFFECT_METHODS = ("record_leave", "create_out_of_office", "add_member", "create_ticket", "file_expense")


class CrashAfterEffect:
    """Calls the real connector, then sometimes dies before anyone hears the answer."""

    def __init__(self, inner, probability: float, rng: random.Random) -> None:
        self._inner = inner
        self._probability = probability
        self._rng = rng
        self.system = inner.system

    def __getattr__(self, name: str):
        attr = getattr(self._inner, name)
        if name not in EFFECT_METHODS:
            return attr

        async def call(request):
            result = await attr(request)
            if self._rng.random() < self._probability:
                logging.getLogger("chaos").warning("chaos.crash_after_effect method=%s key=%s", name, request.key)
                os._exit(137)
            return result

        return call


def wrap(connectors: Connectors, probability: float, rng: random.Random) -> Connectors:
    values = {f.name: getattr(connectors, f.name) for f in fields(connectors)}
    for name, value in values.items():
        if name != "directory":
            values[name] = CrashAfterEffect(value, probability, rng)
    return Connectors(**values)


async def main(queue: str, probability: float, seed: int) -> None:
    settings = Settings.load()
    client = await connect(settings.temporal)
    engine = open_database(settings)
    connectors = build_connectors(settings, engine, Directory.load(settings.core.directory_file),
                                  SystemCatalog.load(settings.core.systems_file))
    worker = build_worker(client, settings, task_queue=queue,
                          connectors=wrap(connectors, probability, random.Random(seed)))
    print("chaos-worker ready", flush=True)
    await worker.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
