"""The App Home tab is (re)drawn each time the person opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from channels.slack import home
from channels.slack.channel import SlackChannel


def register(app: AsyncApp, slack: SlackChannel) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        slack.background.spawn(_publish(slack, event["user"]), name="home")


async def _publish(slack: SlackChannel, slack_user: str) -> None:
    await home.publish(slack, slack_user, await slack.user_for(slack_user))
