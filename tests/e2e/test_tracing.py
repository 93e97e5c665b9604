"""One chat turn that files a request is one trace across the processes: gateway, Rasa hop, action
server, workflow start, workflow, activity, connector; and `aios trace` prints it from the local store."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx

from app.local_stack import child_env
from app.otlp_receiver import ReceivedSpan
from assistant import telemetry
from assistant.trace_store import TraceStore
from tests.e2e.conversation import request_id_in
from tests.fakes.server import eventually


def spans_of(stack, traces, trace_id: str) -> list[ReceivedSpan]:
    """The trace's spans: from the OTLP receiver (the services in their own processes) and the local
    store (everyone, this process's gateway and worker included)."""
    store = TraceStore.for_settings(stack.settings)
    found = {s.span_id: s for s in traces.trace(trace_id)}
    for s in store.spans(trace_id):
        found.setdefault(s.span_id, ReceivedSpan(s.trace_id, s.span_id, s.parent_id, s.name, s.service,
                                                 s.attributes))
    return list(found.values())


def chain(spans: list[ReceivedSpan], leaf: ReceivedSpan) -> list[ReceivedSpan]:
    """`leaf` and its ancestors, root last; stops where a parent is missing from the trace."""
    by_id = {s.span_id: s for s in spans}
    found = [leaf]
    while found[-1].parent_id in by_id:
        found.append(by_id[found[-1].parent_id])
    return found


async def test_a_turn_that_files_a_request_is_one_connected_trace(stack, traces):
    await stack.reset_conversation("alice")
    async with stack.client("alice") as http:
        async def click(reply: httpx.Response, title: str) -> httpx.Response:
            buttons = {b["title"]: b["payload"] for m in reply.json()["messages"] for b in m.get("buttons") or []}
            assert title in buttons, reply.json()
            return await http.post("/api/chat", json={"payload": buttons[title]})

        r = await http.post("/api/chat", json={"message": "my laptop won't boot after the update"})
        r = await click(r, "High")
        with telemetry.span("test.confirm") as confirming:  # the turn that files the request
            r = await click(r, "Yes, submit")
        assert r.status_code == 200, r.text
    request_id = request_id_in(" ".join(m["text"] for m in r.json()["messages"]))
    assert request_id, r.json()
    trace_id = format(confirming.get_span_context().trace_id, "032x")

    def connected() -> list[ReceivedSpan]:
        """The path from the root to the connector's span, once every span on it has arrived."""
        spans = spans_of(stack, traces, trace_id)
        leaf = next((s for s in spans if s.name.startswith("connector ")), None)
        path = list(reversed(chain(spans, leaf))) if leaf is not None else []
        return path if path and path[0].name == "test.confirm" else []

    path = await eventually(connected, timeout=30)
    assert path, sorted((s.service, s.name, s.span_id, s.parent_id) for s in spans_of(stack, traces, trace_id))
    leaf = path[-1]
    names = [s.name for s in path]
    # Temporal's interceptor hangs the workflow's spans (RunWorkflow, each StartActivity) under the
    # span that started it.
    expected = ["test.confirm", "POST /api/chat", "rasa.turn", "action ", "StartWorkflow:RequestWorkflow",
                "StartActivity:itsm.create_ticket", "RunActivity:itsm.create_ticket", "connector "]
    at = 0
    for want in expected:  # in this order along the one path from the root to the connector
        at = next((i for i in range(at, len(names)) if names[i].startswith(want)), -1)
        assert at >= 0, (want, names)
    start = next(s for s in path if s.name == "StartWorkflow:RequestWorkflow")
    run = [s for s in spans_of(stack, traces, trace_id) if s.name == "RunWorkflow:RequestWorkflow"]
    assert [s.parent_id for s in run] == [start.span_id], run
    assert path[0].parent_id is None  # connected all the way up: one trace, no orphaned part
    services = {s.name.split(" ")[0]: s.service for s in path}
    assert services["action"] == "aios-actions" and services["StartWorkflow:RequestWorkflow"] == "aios-actions"
    assert services["rasa.turn"] == "aios-tests"  # the in-process gateway and worker
    # The action server exported over OTLP too (its batch may reach the receiver after the local store).
    from_actions = {s.span_id for s in path if s.service == "aios-actions"}
    assert await eventually(lambda: from_actions <= {s.span_id for s in traces.trace(trace_id)}, timeout=15)
    assert all(s.service == "aios-actions" for s in traces.trace(trace_id)), "this process sent no OTLP"
    ids = {s.name: s.attributes for s in path}
    assert ids["rasa.turn"]["aios.conversation_id"] == "alice"
    assert run[0].attributes["temporalWorkflowID"] == request_id
    assert leaf.attributes["aios.request_id"] == request_id
    action = next(s for s in path if s.name.startswith("action "))
    assert action.attributes["aios.conversation_id"] == "alice"

    # The same trace, from the local store, by request id.
    async def printed() -> str:
        done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "app.cli", "trace", request_id],
                                       env=child_env(stack.settings), capture_output=True, text=True, timeout=60)
        return done.stdout if done.returncode == 0 and "connector " in done.stdout else ""

    out = await eventually(printed, timeout=20, interval=1)
    assert out.startswith(f"trace {trace_id}"), out
    lines = out.splitlines()
    depth = {name: next(len(line) - len(line.lstrip()) for line in lines if line.lstrip().startswith(name))
             for name in ("POST /api/chat", "rasa.turn", "RunWorkflow:RequestWorkflow", "connector ")}
    assert depth["POST /api/chat"] < depth["rasa.turn"] < depth["RunWorkflow:RequestWorkflow"] < depth["connector "]
