"""The action server times every action by name and counts the ones that raise, on its own loopback port."""

from __future__ import annotations

import httpx
import pytest
from rasa_sdk import Action
from rasa_sdk.interfaces import ActionExecutionRejection

from actions.metrics import REGISTRY, MeasuredExecutor, serve
from actions.server import build_executor, build_services
from app.local_stack import make_settings
from app.serving import free_port
from tests.prometheus import samples, value

TRACKER = {"sender_id": "alice", "slots": {}, "latest_message": {}, "events": [], "paused": False,
           "followup_action": None, "active_loop": {}, "latest_action_name": None}


class Named(Action):
    def __init__(self, name: str, behaviour: str) -> None:
        self._name, self.behaviour = name, behaviour

    def name(self) -> str:
        return self._name

    async def run(self, dispatcher, tracker, domain):
        if self.behaviour == "crash":
            raise RuntimeError("the workflow service is down")
        if self.behaviour == "reject":
            raise ActionExecutionRejection(self._name)
        dispatcher.utter_message(text="done")
        return []


def sample(name: str, action: str) -> float:
    return REGISTRY.get_sample_value(name, {"action": action}) or 0.0


async def test_runs_are_timed_by_action_and_crashes_counted_but_not_rejections():
    executor = MeasuredExecutor()
    for name, behaviour in (("action_test_ok", "ok"), ("action_test_crash", "crash"),
                            ("action_test_reject", "reject")):
        executor.register_action(Named(name, behaviour))
    before = {a: (sample("aios_action_seconds_count", a), sample("aios_action_failures_total", a))
              for a in ("action_test_ok", "action_test_crash", "action_test_reject", "unknown")}

    result = await executor.run({"next_action": "action_test_ok", "tracker": TRACKER, "domain": {}})
    assert result is not None and result.responses[0]["text"] == "done"
    with pytest.raises(RuntimeError):
        await executor.run({"next_action": "action_test_crash", "tracker": TRACKER, "domain": {}})
    with pytest.raises(ActionExecutionRejection):
        await executor.run({"next_action": "action_test_reject", "tracker": TRACKER, "domain": {}})
    with pytest.raises(Exception, match="action_no_such"):  # a name Rasa should not send: one label for all
        await executor.run({"next_action": "action_no_such", "tracker": TRACKER, "domain": {}})

    after = {a: (sample("aios_action_seconds_count", a), sample("aios_action_failures_total", a)) for a in before}
    assert after["action_test_ok"] == (before["action_test_ok"][0] + 1, before["action_test_ok"][1])
    assert after["action_test_crash"] == (before["action_test_crash"][0] + 1, before["action_test_crash"][1] + 1)
    assert after["action_test_reject"] == (before["action_test_reject"][0] + 1, before["action_test_reject"][1])
    assert after["unknown"] == (before["unknown"][0] + 1, before["unknown"][1] + 1)


def test_the_servers_executor_is_measured(tmp_path):
    assert isinstance(build_executor(build_services(make_settings(tmp_path))), MeasuredExecutor)


async def test_the_metrics_are_served_on_the_configured_loopback_port():
    executor = MeasuredExecutor()
    executor.register_action(Named("action_test_served", "ok"))
    await executor.run({"next_action": "action_test_served", "tracker": TRACKER, "domain": {}})
    address = f"127.0.0.1:{free_port()}"
    serve(address)
    async with httpx.AsyncClient(timeout=5) as http:
        r = await http.get(f"http://{address}/metrics")
    assert r.status_code == 200
    found = samples(r.text)
    assert value(found, "aios_action_seconds_count", action="action_test_served") == 1
    assert value(found, "process_resident_memory_bytes") > 0  # the process collector rides along
