"""Vendor connectors inside the workflow: Temporal retries transient failures, permanent ones end it."""

from __future__ import annotations

from dataclasses import replace

from assistant.catalog import SystemCatalog
from assistant.directory import Directory
from assistant.schema import open_database
from assistant.settings.workflows import JiraSettings, OktaSettings
from tests.fakes.connectors.faults import serve
from tests.fakes.connectors.jira import create_fake_jira
from tests.fakes.connectors.okta import create_fake_okta
from tests.workflows.conftest import access, it_ticket, rig_settings, running_rig
from workflows.connectors import build_connectors, catalog_groups
from workflows.connectors.jira import JiraServiceManagement
from workflows.connectors.okta import OktaIdentity
from workflows.models import RequestState


def connectors_for(settings, **override):
    engine = open_database(settings)
    directory = Directory.load(settings.core.directory_file)
    catalog = SystemCatalog.load(settings.core.systems_file)
    return replace(build_connectors(settings, engine, directory, catalog), **override), catalog


async def test_rate_limits_and_outages_are_retried_until_the_ticket_exists_once(temporal_env, tmp_path):
    jira_app = create_fake_jira(email="bot@example.com", token="t")
    jira_app.state.faults.inject(429, message="Rate limit exceeded.", headers={"Retry-After": "1"})
    jira_app.state.faults.inject(502, method="POST", after=True)  # created, but the answer was lost
    jira_app.state.faults.inject(delay=6.0, method="GET")  # past the client's timeout
    async with serve(jira_app) as url:
        settings = rig_settings(tmp_path)
        jira = JiraServiceManagement(JiraSettings(base_url=url, email="bot@example.com", api_token="t"), timeout=2)
        connectors, _ = connectors_for(settings, itsm=jira)
        async with running_rig(temporal_env.client, tmp_path, settings=settings, connectors=connectors) as rig:
            request_id = await rig.submit(it_ticket())
            final = await rig.result(request_id, timeout=60)
        await jira.aclose()
    assert final.state is RequestState.COMPLETED
    assert len(jira_app.state.requests) == 1
    assert final.effects[0].reference == "IT-1" and final.effects[0].system == "jira"
    calls = [r for r in rig.audit.records(request_id=request_id) if r.event == "connector.call"]
    assert len(calls) == 1 and calls[0].data["attempt"] >= 4


async def test_a_permanent_error_fails_the_request_once_and_tells_the_requester(temporal_env, tmp_path):
    settings = rig_settings(tmp_path)
    catalog = SystemCatalog.load(settings.core.systems_file)
    okta_app = create_fake_okta(token="ssws", users=["alice@example.com"],
                                groups=[g for g in catalog_groups(catalog) if g != "vpn-admin"])
    async with serve(okta_app) as url:
        okta = OktaIdentity(OktaSettings(org_url=url, api_token="ssws"), timeout=2)
        connectors, _ = connectors_for(settings, identity=okta)
        async with running_rig(temporal_env.client, tmp_path, settings=settings, connectors=connectors) as rig:
            request_id = await rig.submit(access("vpn", "admin"))
            await rig.decide(request_id, "bob")
            await rig.pending_stage(request_id, 2)
            await rig.decide(request_id, "carol")
            final = await rig.result(request_id)
        await okta.aclose()
    assert final.state is RequestState.FAILED
    assert "no group named 'vpn-admin'" in final.outcome
    assert okta_app.state.faults.count("GET", "/api/v1/groups$") == 1  # not retried
    told = [n.text for n in rig.outbox.inbox("alice")][-1]
    assert "could not be completed" in told and "vpn-admin" in told
    events = [r.event for r in rig.audit.records(request_id=request_id)]
    assert events[-2:] == ["connector.failed", "request.failed"]
