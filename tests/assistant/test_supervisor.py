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


async def test_a_replica_that_dies_is_started_again_until_it_keeps_failing(tmp_path):
    """The scale profile's replicas: a killed one comes back (a new process, its pid file updated);
    one that exits again and again is given up after RESTARTS_PER_MINUTE and reported."""
    import os
    import signal

    from app.supervisor import RESTARTS_PER_MINUTE

    sup = Supervisor(tmp_path)
    stop = asyncio.Event()
    try:
        await sup.start(Service("replica", sleeper("replica"), always, timeout=10, restart=True))
        first = int((tmp_path / "replica.pid").read_text())
        os.killpg(first, signal.SIGKILL)
        sup.running[0].process.wait(10)
        watching = asyncio.create_task(sup.watch(stop))
        for _ in range(100):
            await asyncio.sleep(0.1)
            if int((tmp_path / "replica.pid").read_text()) != first:
                break
        again = int((tmp_path / "replica.pid").read_text())
        assert again != first and sup.running[0].process.poll() is None
        stop.set()
        assert await watching is None
    finally:
        sup.stop_all()

    crashing = Supervisor(tmp_path / "crash")
    try:
        await crashing.start(Service("flaky", sleeper("flaky", seconds=0.2, code=1), always, timeout=10,
                                    restart=True))
        failure = await asyncio.wait_for(crashing.watch(asyncio.Event()), 60)
        assert failure is not None and failure.name == "flaky" and "exited unexpectedly" in failure.reason
        assert len(crashing.running[0].restarts) == RESTARTS_PER_MINUTE
    finally:
        crashing.stop_all()
