"""A file shared with the assistant in a DM: admins add it to the knowledge base after confirming.

The offer names the file and asks; only a click on "Add" by a knowledge admin downloads it from
Slack (with the bot token, and only from Slack's own file host) and hands it to the knowledge service.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

import httpx
from slack_bolt.async_app import AsyncApp

from assistant.errors import AssistantError
from channels.identity import not_enrolled_text
from channels.slack import mrkdwn, replies
from channels.slack.blocks import Post, button, context, section
from channels.slack.channel import SlackChannel
from channels.slack.replies import Where
from knowledge.client import KnowledgeClient

log = logging.getLogger(__name__)

ADD = "kb_add_file"
CANCEL = "kb_cancel_file"
NOT_ADMIN = ("Only knowledge admins can add documents to the knowledge base, so I did not keep this file. "
             "Ask a knowledge admin if it should be added.")
MAX_FILES = 5


def register(app: AsyncApp, slack: SlackChannel) -> None:
    @app.action(ADD)
    async def on_add(ack, body: dict[str, Any]) -> None:
        await ack()
        slack.background.spawn(add(slack, body), name="file-add")

    @app.action(CANCEL)
    async def on_cancel(ack, body: dict[str, Any]) -> None:
        await ack()
        container = body.get("container") or {}
        channel, ts = str(container.get("channel_id", "")), str(container.get("message_ts", ""))
        await slack.client.chat_update(channel=channel, ts=ts,
                                       text="Not added", blocks=[context("Not added to the knowledge base.")])


async def offer(slack: SlackChannel, event: dict[str, Any], *, key: str | None) -> None:
    where = Where(channel=event["channel"], owner=event["user"], thread_ts=event.get("thread_ts"))
    user = await slack.user_for(event["user"])
    if user is None:
        await replies.say(slack, where, not_enrolled_text("Slack"))
        return
    if not user.is_admin:
        log.info("slack.file_refused user=%s", user.id)
        await replies.say(slack, where, NOT_ADMIN)
        return
    for f in (event.get("files") or [])[:MAX_FILES]:
        name, size = str(f.get("name") or f.get("title") or "file"), int(f.get("size") or 0)
        e = mrkdwn.escape
        post = Post(text=e(f"Add {name} to the knowledge base?"), blocks=[
            section(f"Add *{e(name)}* ({size / 1024:.0f} KB) to the knowledge base? Everyone in the default "
                    f"groups will be able to find it."),
            {"type": "actions", "block_id": "kb_file", "elements": [
                button("Add to knowledge base", ADD, str(f.get("id", "")), style="primary"),
                button("Cancel", CANCEL, str(f.get("id", ""))),
            ]},
        ])
        await replies.post(slack, where, post)


async def add(slack: SlackChannel, body: dict[str, Any]) -> None:
    container = body.get("container") or {}
    channel, ts = container.get("channel_id", ""), container.get("message_ts", "")
    file_id = body["actions"][0].get("value", "")

    async def show(text: str) -> None:
        await slack.client.chat_update(channel=channel, ts=ts, text=mrkdwn.escape(text),
                                       blocks=[section(mrkdwn.escape(text))])

    user = await slack.user_for(body["user"]["id"])
    if user is None or not user.is_admin:  # the clicker, not whoever shared the file, must be an admin
        await slack.client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=NOT_ADMIN)
        return
    await show("Adding it to the knowledge base…")
    info = (await slack.client.files_info(file=file_id)).get("file") or {}
    name = str(info.get("name") or "document")
    limit = min(slack.settings.slack.max_file_bytes, slack.settings.knowledge.max_upload_bytes)
    if int(info.get("size") or 0) > limit:
        await show(f"{name} is larger than {limit // 1048576} MB; it was not added.")
        return
    url = info.get("url_private_download") or info.get("url_private") or ""
    if not _is_slack_file_host(url, slack.settings.slack.api_url):
        log.warning("slack.file_url_refused file=%s host=%s", file_id, urlparse(url).hostname)
        await show(f"I could not download {name} from Slack; it was not added.")
        return
    try:
        data = await _download(slack, url, limit)
        services = slack.services
        client = KnowledgeClient(services.settings.knowledge, services.settings.core.secret_key.get_secret_value(),
                                 services.http)
        _, result = await client.upload(name, data, actor=user.id, content_type=info.get("mimetype"))
    except AssistantError as exc:
        await show(f"{name} was not added: {exc.message}")
        return
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("slack.file_download_failed file=%s error=%s", file_id, type(exc).__name__)
        await show(f"I could not download {name} from Slack; it was not added.")
        return
    chunks = result.get("chunks")
    log.info("slack.file_added file=%s by=%s document=%s", file_id, user.id, result.get("id"))
    await show(f"Added {result.get('title') or name} to the knowledge base"
               + (f" ({chunks} passages)." if chunks is not None else "."))


def _is_slack_file_host(url: str, api_url: str) -> bool:
    """The bot token only ever goes to Slack's file host (or the configured API host, e.g. a test fake)."""
    target, api = urlparse(url), urlparse(api_url)
    if target.hostname == "files.slack.com":
        return target.scheme == "https"
    return bool(target.hostname) and (target.scheme, target.hostname, target.port) == (api.scheme, api.hostname,
                                                                                      api.port)


async def _download(slack: SlackChannel, url: str, limit: int) -> bytes:
    token = slack.settings.slack.bot_token.get_secret_value() if slack.settings.slack.bot_token else ""
    timeout = httpx.Timeout(slack.settings.slack.http_timeout_seconds * 3, connect=5.0)
    async with slack.services.http.stream("GET", url, headers={"Authorization": f"Bearer {token}"},
                                          timeout=timeout, follow_redirects=False) as response:
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) > limit:
                raise ValueError("file too large")
        return bytes(data)

