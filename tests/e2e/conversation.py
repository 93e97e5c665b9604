"""Scripted conversations through the real gateway: say, click, and check what the assistant says."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from actions.dates import human

_PLACEHOLDER = re.compile(r"\{(day|iso|long)(:mon)?([+-]\d+)\}")


def render(text: str, today: date) -> str:
    """{day+10} -> 'Dec 1', {iso+10} -> '2026-12-01', {long+10} -> 'Tue 1 Dec 2026', counted from today.

    With ":mon" ({day:mon+10}, {iso:mon-3}) the count starts at the coming Monday (today if it is
    one), or goes back from the latest Monday, so the date falls on the same weekday whatever day
    the suite runs: time off that lands on a weekend by chance would be refused."""
    this_monday = today - timedelta(days=today.weekday())
    next_monday = today + timedelta(days=-today.weekday() % 7)

    def sub(m: re.Match) -> str:
        offset = int(m.group(3))
        base = (next_monday if offset >= 0 else this_monday) if m.group(2) else today
        d = base + timedelta(days=offset)
        return {"day": d.strftime("%b %-d"), "iso": d.isoformat(), "long": human(d)}[m.group(1)]

    return _PLACEHOLDER.sub(sub, text)


def working_day_after(today: date, days: int) -> date:
    """The first Monday-to-Friday on or after today + days."""
    d = today + timedelta(days=days)
    return d if d.weekday() < 5 else d + timedelta(days=7 - d.weekday())


@dataclass
class Turn:
    sent: str
    status: int
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(m.get("text", "") for m in self.messages)

    @property
    def buttons(self) -> list[dict[str, str]]:
        return [b for m in self.messages for b in m.get("buttons", [])]


class Conversation:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.turns: list[Turn] = []

    async def say(self, text: str) -> Turn:
        return await self._post({"message": text}, text)

    async def click(self, title: str) -> Turn:
        """Press the button whose title starts with `title` in the last reply."""
        last = self.turns[-1]
        matches = [b for b in last.buttons if b["title"].lower().startswith(title.lower())]
        assert matches, f"no button {title!r} in {[b['title'] for b in last.buttons]}; bot said: {last.text!r}"
        return await self._post({"payload": matches[0]["payload"]}, f"[{matches[0]['title']}]")

    async def _post(self, body: dict[str, str], shown: str) -> Turn:
        r = await self.http.post("/api/chat", json=body)
        turn = Turn(shown, r.status_code, r.json().get("messages", []) if r.status_code == 200 else [])
        assert r.status_code == 200, f"{shown!r} -> {r.status_code} {r.text}"
        self.turns.append(turn)
        return turn

    def transcript(self) -> str:
        return "\n".join(f"> {t.sent}\n{t.text}  {[b['title'] for b in t.buttons]}" for t in self.turns)


REQUEST_ID = re.compile(r"\bREQ-[A-Z2-7]{6}\b")


def request_id_in(text: str) -> str | None:
    m = REQUEST_ID.search(text)
    return m.group(0) if m else None
