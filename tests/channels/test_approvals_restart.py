"""Restart the whole system with approvals pending: afterwards a click works, exactly once."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from assistant.db import reading
from tests.channels.test_approvals_api import gateway_for, pending
from tests.workflows.conftest import access, rig_settings, running_rig, time_off
from workflows import search_attributes as sa
from workflows.connectors.embedded.schema import hr_leave, idp_changes
from workflows.models import RequestState


async def start_server(settings, db_file) -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter, dev_server_existing_path=str(settings.temporal.cli_path), ui=False,
        search_attributes=list(sa.ALL), dev_server_log_level="error",
        dev_server_extra_args=["--db-filename", str(db_file)])


def rows(engine, table, request_id: str) -> int:
    with reading(engine) as conn:
        query = select(func.count()).select_from(table).where(table.c.request_id == request_id)
        return conn.execute(query).scalar_one()


async def test_after_a_full_restart_pending_approvals_are_decided_exactly_once(tmp_path):
    settings = rig_settings(tmp_path)
    queue = "restart-requests"
    server = await start_server(settings, tmp_path / "temporal.db")
    try:
        async with running_rig(server.client, tmp_path, settings=settings, queue=queue) as rig:
            leave = await rig.submit(time_off(2))
            grant = await rig.submit(access("salesforce", "read"))
            await rig.decide(grant, "bob")
            await rig.pending_stage(grant, 2)
            await rig.pending_stage(leave, 1)
            await rig.settled(grant)
            await rig.settled(leave)
    finally:
        await server.shutdown()

    # Temporal, the worker and the gateway all come back, on the same files.
    server = await start_server(settings, tmp_path / "temporal.db")
    try:
        async with running_rig(server.client, tmp_path, settings=settings, queue=queue) as rig, \
                gateway_for(rig) as gw, gw.client("bob") as bob, gw.client("carol") as carol:
            [card] = await pending(bob, leave)
            assert card["request_id"] == leave
            url = f"/api/approvals/{card['approval_id']}/decision"
            body = {"decision": "approve", "params_hash": card["params_hash"]}
            clicks = await asyncio.gather(*(bob.post(url, json=body) for _ in range(5)))
            assert {r.status_code for r in clicks} == {200}
            assert len({r.json()["decided_at"] for r in clicks}) == 1

            [second] = await pending(carol, grant)
            assert second["approval_id"] == f"{grant}-2"
            r = await carol.post(f"/api/approvals/{second['approval_id']}/decision",
                                 json={"decision": "approve", "params_hash": second["params_hash"]})
            assert r.status_code == 200

            for request_id in (leave, grant):
                final = await rig.result(request_id)
                assert final.state is RequestState.COMPLETED
            assert len((await rig.status(leave)).approvals[0].decisions) == 1
            assert rows(rig.engine, hr_leave, leave) == 1 and rows(rig.engine, idp_changes, grant) == 1
            assert rig.audit.verify().ok
    finally:
        await server.shutdown()
