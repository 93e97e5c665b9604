"""The worker's Prometheus endpoint (the Temporal SDK's exporter) shows what the workflows did.

Each test runs real workflows on a real worker whose client runs on this process's metrics runtime,
then scrapes the endpoint and reads the series of its own task queue (unique per test). Together
they see every family workflows/metrics.py declares, which the dashboards are checked against.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from assistant.catalog import SystemCatalog
from assistant.directory import Directory
from assistant.schema import open_database
from tests.prometheus import base_name, bucket, scrape, value
from tests.workflows.conftest import access, it_ticket, rig_settings, running_rig, time_off
from workflows import metrics
from workflows import search_attributes as sa
from workflows.activities.models import CREATE_TICKET
from workflows.client import connect
from workflows.connectors import build_connectors
from workflows.connectors.errors import ConnectorPermanentError
from workflows.metrics import prometheus_runtime
from workflows.models import RequestState

# Which test below makes each declared family appear (and asserts its values).
BY_TIMERS = {"aios_requests_started_total", "aios_requests_ended_total", "aios_approval_reminders_total",
             "aios_approval_escalations_total", "aios_approval_expiries_total", "aios_request_completion_seconds"}
BY_DECISIONS = {"aios_request_decision_seconds", "aios_connector_calls_total", "aios_connector_call_seconds",
                *metrics.SDK_EXPORTED}


class ArchivedJira:
    """An ITSM that refuses every ticket for good (a permanent vendor error)."""

    system = "jira"

    async def create_ticket(self, request):
        raise ConnectorPermanentError("the service desk project is archived", system=self.system)


def test_the_tests_below_cover_every_declared_family():
    assert BY_TIMERS | BY_DECISIONS == set(metrics.EXPORTED) | set(metrics.SDK_EXPORTED)


async def test_reminders_escalations_and_expiry_are_counted_in_workflow_time(settings, worker_metrics, tmp_path):
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(settings.temporal.test_server_path),
        runtime=prometheus_runtime(worker_metrics))
    try:
        types = {"KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
                 "KEYWORD_LIST": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST}
        await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={k.name: types[k.indexed_value_type.name] for k in sa.ALL}))
        async with running_rig(env.client, tmp_path) as rig:
            request_id = await rig.submit(time_off(1))
            await rig.pending_stage(request_id)
            await env.sleep(timedelta(days=7, minutes=1))
            await rig.wait_for(request_id, lambda s: s.state is RequestState.EXPIRED)
            await rig.settled(request_id)
    finally:
        await env.shutdown()

    found = await scrape(f"http://{worker_metrics}/metrics")
    mine = {"task_queue": rig.queue, "kind": "time_off"}
    assert value(found, "aios_requests_started_total", **mine) == 1
    stage = {**mine, "stage": "manager"}
    assert value(found, "aios_approval_reminders_total", **stage) == 1  # after 24 h
    assert value(found, "aios_approval_escalations_total", **stage) == 1  # after 48 h
    assert value(found, "aios_approval_expiries_total", **stage) == 1  # after 7 days
    assert value(found, "aios_requests_ended_total", **mine, state="expired") == 1
    assert value(found, "aios_requests_ended_total", **mine, state="completed") == 0
    assert value(found, "aios_request_completion_seconds_count", **mine, state="expired") == 1
    took = value(found, "aios_request_completion_seconds_sum", **mine, state="expired")
    assert 7 * 86400 <= took < 8 * 86400  # the workflow's clock (skipped), in seconds
    # Just over a week: above the 7-day bucket, inside the 14-day one (the configured buckets, in seconds).
    assert bucket(found, "aios_request_completion_seconds", 7 * 86400, **mine, state="expired") == 0
    assert bucket(found, "aios_request_completion_seconds", 14 * 86400, **mine, state="expired") == 1
    assert {base_name(n) for n in BY_TIMERS} <= present(found, rig.queue)


async def test_decisions_and_connector_calls_are_timed_by_kind_stage_and_vendor(settings, temporal_env,
                                                                                worker_metrics, tmp_path):
    client = await connect(settings.temporal, runtime=prometheus_runtime(worker_metrics))
    rig_conf = rig_settings(tmp_path)
    connectors = replace(build_connectors(rig_conf, open_database(rig_conf),
                                          Directory.load(rig_conf.core.directory_file),
                                          SystemCatalog.load(rig_conf.core.systems_file)), itsm=ArchivedJira())
    async with running_rig(client, tmp_path, settings=rig_conf, connectors=connectors) as rig:
        granted = await rig.submit(access("github", "write"))
        await rig.decide(granted, "bob")
        await rig.pending_stage(granted, 2)
        await rig.decide(granted, "carol")
        refused = await rig.submit(it_ticket())
        assert (await rig.result(granted)).state is RequestState.COMPLETED
        assert (await rig.result(refused)).state is RequestState.FAILED

    found = await scrape(f"http://{worker_metrics}/metrics")
    mine = {"task_queue": rig.queue}
    for stage in ("manager", "system owner"):
        assert value(found, "aios_request_decision_seconds_count", **mine, kind="access", stage=stage) == 1, stage
        assert value(found, "aios_request_decision_seconds_sum", **mine, kind="access", stage=stage) < 60
    assert value(found, "aios_requests_ended_total", **mine, kind="access", state="completed") == 1
    assert value(found, "aios_requests_ended_total", **mine, kind="it_ticket", state="failed") == 1
    assert value(found, "aios_connector_calls_total", **mine, vendor="embedded-identity", outcome="ok") == 1
    assert value(found, "aios_connector_calls_total", **mine, vendor="jira", outcome="permanent_error") == 1
    assert value(found, "aios_connector_call_seconds_count", **mine, vendor="jira") == 1
    # The SDK's own metrics the dashboards use: a failed attempt of the refused ticket among them.
    assert value(found, "temporal_activity_execution_failed_total", **mine, activity_type=CREATE_TICKET) == 1
    assert {base_name(n) for n in BY_DECISIONS} <= present(found, rig.queue)


def present(found, queue: str) -> set[str]:
    """The families with a series of this task queue."""
    return {base_name(s.name) for s in found if s.labels.get("task_queue") == queue}
