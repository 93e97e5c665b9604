"""Scripted conversations in Slack and Teams through the real gateway: say, click, read the replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fakes.chat_stack import AAD_IDS, SLACK_IDS, ChatFakes
from tests.fakes.slack_api import dm
from tests.fakes.teams_driver import personal_conversation


def slack_text(message: dict[str, Any]) -> str:
    parts = []
    for block in message.get("blocks") or []:
        if block.get("type") == "section" and block.get("text"):
            parts.append(block["text"]["text"])
        for f in block.get("fields") or []:
            parts.append(f["text"])
        if block.get("type") == "context":
            parts += [e.get("text", "") for e in block.get("elements", [])]
    return "\n".join(parts)


def slack_buttons(message: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for b in message.get("blocks") or [] if b.get("type") == "actions"
            for e in b.get("elements", [])]


def teams_text(card: dict[str, Any]) -> str:
    parts = []
    for block in card.get("body", []):
        if block.get("type") == "TextBlock":
            parts.append(block.get("text", ""))
        elif block.get("type") == "FactSet":
            parts += [f"{f['title']}: {f['value']}" for f in block.get("facts", [])]
        elif block.get("type") == "ActionSet":
            parts += [a.get("title", "") for a in block.get("actions", [])]
    return "\n".join(parts)


@dataclass
class SlackConversation:
    """One person's DM with the assistant in the fake Slack workspace."""

    fakes: ChatFakes
    app: Any
    driver: Any
    user: str
    replies: list[dict[str, Any]] = field(default_factory=list)  # the messages of the last turn

    @property
    def slack_id(self) -> str:
        return SLACK_IDS[self.user]

    def _messages(self) -> list[tuple[str, dict[str, Any]]]:
        channel = dm(self.slack_id)
        return sorted(((ts, m) for (ch, ts), m in self.fakes.slack.messages.items() if ch == channel))

    async def _turn(self, send) -> str:
        before = {ts for ts, _ in self._messages()}
        response = await send()
        assert response.status_code == 200, response.text
        await self.app.state.slack.background.drain(120)
        self.replies = [m for ts, m in self._messages() if ts not in before]
        return self.text

    async def say(self, text: str) -> str:
        return await self._turn(lambda: self.driver.dm(self.slack_id, text))

    async def click(self, title: str) -> str:
        for ts, message in reversed(self._messages()):
            if any(b.lower().startswith(title.lower()) for b in slack_buttons(message)):
                return await self._turn(  # the lambda runs before the loop moves on
                    lambda: self.driver.click(self.slack_id, dm(self.slack_id), ts, title=title))  # noqa: B023
        raise AssertionError(f"no button {title!r} in {self.user}'s DM; last reply: {self.text!r}")

    @property
    def text(self) -> str:
        return "\n".join(slack_text(m) for m in self.replies)

    @property
    def buttons(self) -> list[str]:
        return [b for m in self.replies for b in slack_buttons(m)]


@dataclass
class TeamsConversation:
    """One person's personal chat with the assistant through the fake Bot Connector."""

    fakes: ChatFakes
    app: Any
    driver: Any
    user: str
    replies: list[dict[str, Any]] = field(default_factory=list)  # Adaptive Cards of the last turn
    reply_ids: list[str | None] = field(default_factory=list)  # the activity carrying each card

    @property
    def aad_id(self) -> str:
        return AAD_IDS[self.user]

    @property
    def conversation(self) -> str:
        return personal_conversation(self.aad_id)

    async def _turn(self, send) -> str:
        before = len(self.fakes.connector.calls)
        response = await send()
        assert response.status_code in (200, 202), response.text
        await self.app.state.teams.background.drain(120)
        sent = [(c.response_id, a["content"]) for c in self.fakes.connector.calls[before:]
                if c.op in ("send", "reply") and c.body and c.body.get("type") == "message"
                for a in c.body.get("attachments") or []]
        self.reply_ids = [i for i, _ in sent]
        self.replies = [card for _, card in sent]
        return self.text

    async def say(self, text: str) -> str:
        return await self._turn(lambda: self.driver.say(self.aad_id, text))

    async def click(self, title: str) -> str:
        for activity_id, card in reversed(list(zip(self.reply_ids, self.replies, strict=True))):
            for block in card.get("body", []):
                for action in block.get("actions", []) if block.get("type") == "ActionSet" else []:
                    if action["title"].lower().startswith(title.lower()):
                        return await self._turn(  # the lambda runs before the loop moves on
                            lambda: self.driver.submit(self.aad_id, action["data"], reply_to=activity_id))  # noqa: B023
        raise AssertionError(f"no button {title!r} in {self.user}'s last Teams reply: {self.text!r}")

    @property
    def text(self) -> str:
        return "\n".join(teams_text(c) for c in self.replies)
