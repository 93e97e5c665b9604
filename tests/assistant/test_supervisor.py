"""The `aios up` supervisor: ordered start, readiness, a dead child stops everything, clean stop."""

from __future__ import annotations

import asyncio
import socket
import sys

import pytest

from app.supervisor import Service, ServiceFailed, Supervisor


def sleeper(name: str, seconds: float = 60, code: int = 0) -> list[str]:
    return [sys.executable, "-c", f"import time,sys; print('{name} starting', flush=True); "
            f"time.sleep({seconds}); print('{name} bye', flush=True); sys.exit({code})"]


async def always() -> bool:
    return True


async def never() -> bool:
    return False


async def test_child_dying_while_starting_is_reported_with_its_log(tmp_path):
    sup = Supervisor(tmp_path)
    try:
        with pytest.raises(ServiceFailed) as err:
            await sup.start(Service("broken", [sys.executable, "-c", "print('boom: bad config'); raise SystemExit(3)"],
                                    never, timeout=10))
        assert "exited with code 3" in err.value.reason
        assert "boom: bad config" in err.value.log_tail
    finally:
        sup.stop_all()


async def test_not_ready_in_time_fails(tmp_path):
    sup = Supervisor(tmp_path)
    try:
        with pytest.raises(ServiceFailed) as err:
            await sup.start(Service("slow", sleeper("slow"), never, timeout=1))
        assert "not ready after" in err.value.reason
    finally:
        sup.stop_all()
    assert not sup.running


async def test_a_child_that_dies_later_stops_the_run(tmp_path):
    sup = Supervisor(tmp_path)
    await sup.start(Service("steady", sleeper("steady"), always))
    await sup.start(Service("flaky", sleeper("flaky", seconds=0.5, code=7), always))
    steady = sup.running[0].process
    failure = await asyncio.wait_for(sup.watch(asyncio.Event()), timeout=20)
    assert failure is not None and failure.name == "flaky" and "code 7" in failure.reason
    assert "flaky bye" in failure.log_tail
    sup.stop_all()
    assert steady.poll() is not None  # nothing is left half up


async def test_stop_request_stops_children_in_reverse_order(tmp_path):
    sup = Supervisor(tmp_path)
    await sup.start(Service("first", sleeper("first"), always))
    await sup.start(Service("second", sleeper("second"), always))
    processes = [r.process for r in sup.running]
    stop = asyncio.Event()
    stop.set()
    assert await sup.watch(stop) is None
    sup.stop_all(grace=5)
    assert all(p.poll() is not None for p in processes)


async def test_port_in_use_is_refused_before_starting(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        sup = Supervisor(tmp_path)
        with pytest.raises(ServiceFailed) as err:
            await sup.start(Service("web", sleeper("web"), always, ports=(("127.0.0.1", port),)))
        assert "already in use" in err.value.reason
        assert not sup.running
