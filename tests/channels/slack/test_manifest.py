"""The Slack manifest a workspace admin installs matches what the app listens to."""

from __future__ import annotations

from pathlib import Path

import yaml

from assistant.settings.slack import SlackSettings

MANIFEST = Path(__file__).resolve().parents[3] / "docs" / "slack" / "manifest.yml"


def test_the_manifest_subscribes_to_what_the_app_handles_on_the_gateway_route():
    manifest = yaml.safe_load(MANIFEST.read_text())
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened", "app_mention", "message.im"]
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == SlackSettings().command and command["url"].endswith("/slack/events")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "im:history", "app_mentions:read", "commands", "users:read.email", "files:read"} <= scopes
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_the_app_icon_is_a_square_slack_accepts():
    from PIL import Image

    with Image.open(MANIFEST.parent / "icon.png") as icon:
        assert icon.format == "PNG" and icon.width == icon.height and 512 <= icon.width <= 2000
