"""A Temporal server started apart from the assistant, used exactly as a company's cluster would be:
`aios temporal setup` registers the search attributes, and two workers serve one task queue on a
shared database (SQLite and PostgreSQL) without doing any request's work twice."""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter

import pytest
from sqlalchemy import select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime, TelemetryConfig

from app.engines import free_port, wait_for_port
from app.local_stack import child_env
from assistant.db import reading
from assistant.settings import PROJECT_DIR
from tests.dbs import migrated
from tests.workflows.conftest import it_ticket, rig_settings, running_rig, stop_worker
from workflows.client import connect
from workflows.connectors.embedded.schema import itsm_tickets
from workflows.models import RequestState
from workflows.worker import build_worker

AIOS = str(PROJECT_DIR / ".venv" / "bin" / "aios")


@pytest.fixture
def cluster(tmp_path, settings):
    """`temporal server start-dev` in its own process, without the assistant's search attributes."""
    port = free_port()
    log = (tmp_path / "temporal.log").open("w")
    proc = subprocess.Popen([str(settings.temporal.cli_path), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
                             "--port", str(port), "--http-port", str(free_port()), "--metrics-port", str(free_port()),
                             "--db-filename", str(tmp_path / "temporal.db"), "--log-level", "warn"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 30, "temporal server", proc)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


def setup(settings, address: str) -> str:
    env = child_env(settings) | {"AIOS_TEMPORAL_ADDRESS": address, "AIOS_TEMPORAL_EMBEDDED": "false"}
    done = subprocess.run([AIOS, "temporal", "setup"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_setup_then_two_workers_on_an_external_cluster(cluster, tmp_path, database_url):
    settings = rig_settings(tmp_path)
    settings.core.database_url = database_url
    settings.temporal.address, settings.temporal.embedded = cluster, False
    migrated(database_url)

    assert setup(settings, cluster) == ("search attributes added: AiosApprovers, AiosDeciders, AiosKind, "
                                        "AiosRequester, AiosState")
    assert setup(settings, cluster) == "search attributes: all present"  # idempotent
    asyncio.run(_two_workers(settings, cluster))


async def _two_workers(settings, address: str) -> None:
    client = await connect(settings.temporal)
    async with running_rig(client, settings.core.var_dir, settings=settings) as rig:
        # A replica: its own connection and SDK runtime, as another process would have.
        other = await Client.connect(address, runtime=Runtime(telemetry=TelemetryConfig()),
                                     data_converter=pydantic_data_converter)
        second = build_worker(other, settings, task_queue=rig.queue)
        running = asyncio.create_task(second.run())
        try:
            ids = await asyncio.gather(*(rig.submit(it_ticket(), requester=who)
                                         for who in ("alice", "bob", "carol", "alice", "bob", "carol")))
            finals = await asyncio.gather(*(rig.result(rid, timeout=60) for rid in ids))
            assert {f.state for f in finals} == {RequestState.COMPLETED}
            # "My requests" is a visibility query on the attributes setup registered.
            mine = await rig.requests.list_for("alice")
            assert sorted(s.request_id for s in mine) == sorted(ids[0::3])
        finally:
            await stop_worker(second, running)
        with reading(rig.engine) as conn:
            tickets = Counter(conn.execute(select(itsm_tickets.c.request_id)).scalars())
        assert tickets == Counter({rid: 1 for rid in ids})  # each request's effect exactly once
        assert rig.audit.verify().ok
