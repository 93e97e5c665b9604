"""Slack settings: half a configuration is refused; the values survive the trip to child processes."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from assistant.errors import ConfigurationError
from assistant.settings import Settings
from assistant.settings.slack import SlackSettings


def test_slack_is_off_until_both_credentials_are_set():
    assert not SlackSettings().enabled
    assert SlackSettings(bot_token="xoxb-1", signing_secret="s").enabled
    assert SlackSettings(bot_token="xoxb-1", socket_mode=True, app_token="xapp-1").enabled


@pytest.mark.parametrize("kw", [{"bot_token": "xoxb-1"}, {"signing_secret": "s"},
                                {"socket_mode": True, "bot_token": "xoxb-1"}])
def test_half_a_configuration_is_refused(kw):
    with pytest.raises(ConfigurationError):
        SlackSettings(**kw).check()


def test_slack_and_teams_settings_round_trip_through_the_environment(monkeypatch):
    settings = Settings()
    settings.slack = SlackSettings(bot_token="xoxb-1", signing_secret="sig", socket_mode=False)
    env = settings.to_env()
    assert env["SLACK_BOT_TOKEN"] == "xoxb-1" and env["TEAMS_ISSUERS"] == "https://api.botframework.com"
    for key, value in env.items():
        if key.startswith(("SLACK_", "TEAMS_")):
            monkeypatch.setenv(key, value)
    again = Settings()
    assert again.slack.bot_token == SecretStr("xoxb-1") and again.slack.enabled
    assert again.teams.issuer_list == ["https://api.botframework.com"] and not again.teams.active
