"""Every form path (happy, correction, interruption, cancel, refusal) through the real stack."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from assistant.directory import Directory
from tests.e2e.conversation import Conversation, render, request_id_in
from workflows.request_workflow import RequestWorkflow

SPEC = yaml.safe_load((Path(__file__).parent / "conversations.yml").read_text())
DIRECTORY = Directory.load(Path(__file__).resolve().parents[2] / "data" / "directory.yml")


@pytest.mark.parametrize("spec", SPEC, ids=[s["name"] for s in SPEC])
async def test_conversation(stack, spec):
    user = spec["user"]
    today = datetime.now(ZoneInfo(DIRECTORY.get(user).timezone)).date()
    await stack.reset_conversation(user)
    async with stack.client(user) as http:
        convo = Conversation(http)
        for step in spec["steps"]:
            if "say" in step:
                turn = await convo.say(render(step["say"], today))
            else:
                turn = await convo.click(render(step["click"], today))
            said = turn.text.lower()
            expected = [render(e, today).lower() for e in step.get("expect", [])]
            found = [e for e in expected if e in said]
            ok = bool(found) if step.get("any") else len(found) == len(expected)
            assert ok, f"expected {expected} in reply to {turn.sent!r}\n--- transcript\n{convo.transcript()}"
            for e in step.get("not_expect", []):
                assert render(e, today).lower() not in said, f"unexpected {e!r}\n{convo.transcript()}"
            offered = [b["title"].lower() for b in turn.buttons]
            for b in step.get("buttons", []):
                want = render(b, today).lower()
                assert any(t.startswith(want) for t in offered), f"button {b!r} not in {offered}\n{convo.transcript()}"
    if "request" in spec:
        request_id = request_id_in(convo.turns[-1].text)
        assert request_id, convo.transcript()
        status = await stack.temporal.get_workflow_handle(request_id).query(RequestWorkflow.status)
        assert status.requester == user
        assert status.kind == spec["request"]["kind"]
        got = status.details.model_dump(mode="json")
        want = {k: render(str(v), today) if isinstance(v, str) else v for k, v in spec["request"]["details"].items()}
        assert {k: got[k] for k in want} == want, convo.transcript()
