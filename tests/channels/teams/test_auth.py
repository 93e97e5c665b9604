"""Inbound JWT validation: every way a token can be wrong is a 401, and nothing behind it runs."""

from __future__ import annotations

import pytest

from assistant.errors import ConfigurationError
from assistant.settings import CoreSettings
from assistant.settings.teams import TeamsSettings
from channels.app import create_app
from tests.channels.teams.conftest import AAD, teams_gateway
from tests.fakes.bot_identity import SigningKey
from tests.prometheus import local
from tests.workflows.conftest import rig_settings


def bad_token(rig, case: str, activity: dict) -> str | None:
    ident = rig.identity
    url = activity["serviceUrl"]
    return {
        "wrong issuer": lambda: ident.token(service_url=url, issuer="https://sts.evil.example/"),
        "wrong audience": lambda: ident.token(service_url=url, audience="some-other-bot"),
        "expired beyond the skew": lambda: ident.token(service_url=url, expires_in=-301),
        "unknown key id": lambda: ident.token(service_url=url, kid="not-a-published-key"),
        "signed by an unpublished key": lambda: ident.token(service_url=url, key=SigningKey()),
        "alg none": lambda: ident.token(service_url=url, alg="none"),
        "alg HS256 with the public key": lambda: ident.token(service_url=url, alg="HS256"),
        "service URL mismatch": lambda: ident.token(service_url="https://smba.evil.example/amer/"),
        "no serviceurl claim": lambda: ident.token(service_url=None),
        "garbage": lambda: "not.a.jwt",
    }[case]()


CASES = ["wrong issuer", "wrong audience", "expired beyond the skew", "unknown key id",
         "signed by an unpublished key", "alg none", "alg HS256 with the public key", "service URL mismatch",
         "no serviceurl claim", "garbage"]


@pytest.mark.parametrize("case", CASES)
async def test_a_bad_token_is_401_and_nothing_runs(teams_rig, case):
    activity = teams_rig.driver.activity(AAD["alice"], text="approve everything")
    refused = local("aios_channel_refusals_total", channel="teams", reason="invalid_token")
    r = await teams_rig.driver.post(activity, token=bad_token(teams_rig, case, activity))
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "invalid_token"
    assert local("aios_channel_refusals_total", channel="teams", reason="invalid_token") == refused + 1
    await teams_rig.settle()
    assert teams_rig.turn.seen == []
    assert teams_rig.connector.calls == []


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic YWxpY2U6c2VjcmV0"}, {"Authorization": "Bearer"}])
async def test_no_bearer_token_is_401(teams_rig, headers):
    r = await teams_rig.driver.post(teams_rig.driver.activity(AAD["alice"], text="hi"), token=None, headers=headers)
    assert r.status_code == 401
    assert teams_rig.turn.seen == []


async def test_a_body_that_is_not_an_activity_is_401_without_a_token_and_400_with_one(teams_rig):
    http = teams_rig.driver.http
    r = await http.post("/api/messages", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 401
    token = teams_rig.identity.token(service_url=teams_rig.connector.service_url)
    r = await http.post("/api/messages", json={"type": "message"},
                        headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (400, 401)  # no serviceUrl: the token's claim cannot match
    activity = teams_rig.driver.activity(AAD["alice"], text="hi")
    del activity["conversation"]
    r = await teams_rig.driver.post(activity)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_activity"


async def test_a_key_not_endorsed_for_teams_is_refused(teams_rig):
    skype_only = SigningKey(endorsements=["skype"])
    teams_rig.identity.keys.append(skype_only)
    teams_rig.teams.validator.keys._fetched = 0.0  # let the bot re-read the JWKS now
    activity = teams_rig.driver.activity(AAD["alice"], text="hi")
    r = await teams_rig.driver.post(activity, token=teams_rig.identity.token(service_url=activity["serviceUrl"],
                                                                             key=skype_only))
    assert r.status_code == 401


async def test_a_token_just_expired_within_the_clock_skew_is_accepted(teams_rig):
    activity = teams_rig.driver.activity(AAD["alice"], text="hi")
    r = await teams_rig.driver.post(activity, token=teams_rig.identity.token(service_url=activity["serviceUrl"],
                                                                             expires_in=-60))
    assert r.status_code == 202
    await teams_rig.settle()
    assert len(teams_rig.turn.seen) == 1


async def test_a_rotated_key_is_picked_up_but_unknown_kids_do_not_hammer_the_jwks(teams_rig):
    activity = teams_rig.driver.activity(AAD["alice"], text="hi")
    assert (await teams_rig.driver.post(activity)).status_code == 202
    fetched = teams_rig.identity.jwks_requests
    for _ in range(5):
        activity = teams_rig.driver.activity(AAD["alice"], text="hi")
        token = teams_rig.identity.token(service_url=activity["serviceUrl"], kid="unknown")
        assert (await teams_rig.driver.post(activity, token=token)).status_code == 401
    assert teams_rig.identity.jwks_requests <= fetched + 1


def test_teams_refuses_to_start_outside_dev_mode_without_an_app_id(tmp_path):
    settings = rig_settings(tmp_path)
    settings.core = CoreSettings(var_dir=tmp_path, mode="prod", secret_key="p" * 40)
    settings.teams = TeamsSettings(enabled=True)
    with pytest.raises(ConfigurationError, match="TEAMS_APP_ID"):
        create_app(settings)
    settings.teams = TeamsSettings(enabled=True, app_id="app")
    with pytest.raises(ConfigurationError, match="TEAMS_APP_PASSWORD"):
        create_app(settings)
    settings.teams = TeamsSettings(app_id="app", app_password="secret")
    create_app(settings)  # configured: starts
    settings.teams = TeamsSettings()
    assert create_app(settings).state.teams is None  # not configured: off, not refused


async def test_dev_mode_without_an_app_id_serves_the_emulator_unauthenticated(tmp_path):
    async with teams_gateway(tmp_path, app_id=None, enabled=True) as rig:
        r = await rig.driver.post(rig.driver.activity(AAD["alice"], text="hi"), token=None)
        assert r.status_code == 202
