"""`aios up` for real: everything starts, answers, and stops together (Ctrl-C or a dead child)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from app.local_stack import free_port
from assistant.settings import PROJECT_DIR

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def up_env(var_dir) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "AIOS_VAR_DIR": str(var_dir),
        "AIOS_SECRET_KEY": "up-test-secret-" + "z" * 32,
        "AIOS_GATEWAY_PORT": str(free_port()),
        "AIOS_RASA_PORT": str(free_port()),
        "AIOS_ACTIONS_PORT": str(free_port()),
        "AIOS_KNOWLEDGE_PORT": str(free_port()),
        "AIOS_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "AIOS_TEMPORAL_TASK_QUEUE": "aios-up-test",
        "AIOS_METRICS_WORKER_ADDRESS": f"127.0.0.1:{free_port()}",
        "AIOS_METRICS_ACTIONS_ADDRESS": f"127.0.0.1:{free_port()}",
    })
    return env


async def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 360) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                out = process.stdout.read() if process.stdout else ""
                raise AssertionError(f"aios up exited early ({process.returncode}):\n{out[-3000:]}")
            try:
                if (await http.get(f"{url}/healthz", timeout=3)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1)
    raise AssertionError("aios up never became healthy")


def start_up(env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app.cli", "up"], env=env, cwd=PROJECT_DIR,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def children_of(process: subprocess.Popen) -> list[psutil.Process]:
    return psutil.Process(process.pid).children(recursive=True)


async def test_up_serves_chat_and_stops_cleanly_on_ctrl_c(tmp_path):
    env = up_env(tmp_path)
    url = f"http://127.0.0.1:{env['AIOS_GATEWAY_PORT']}"
    process = start_up(env)
    try:
        await wait_healthy(url, process)
        kids = children_of(process)
        assert len(kids) >= 5  # temporal, worker, actions, rasa, gateway
        token = subprocess.run([sys.executable, "-m", "app.cli", "token", "alice"], env=env,
                               capture_output=True, text=True, check=True).stdout.strip()
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
            r = await http.post("/api/chat", json={"message": "hello"}, timeout=30)
            # The worker's and the action server's Prometheus endpoints, on their loopback ports.
            worker = await http.get(f"http://{env['AIOS_METRICS_WORKER_ADDRESS']}/metrics", timeout=10)
            actions = await http.get(f"http://{env['AIOS_METRICS_ACTIONS_ADDRESS']}/metrics", timeout=10)
        assert r.status_code == 200 and r.json()["messages"], r.text
        assert worker.status_code == 200 and "temporal_num_pollers" in worker.text
        assert actions.status_code == 200 and "aios_action_seconds" in actions.text
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
    assert process.returncode == 0, out
    assert "AIOS Assistant is up" in out and url in out and "aios token alice" in out
    assert "Stopped." in out
    assert not [k for k in kids if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
    assert (tmp_path / "temporal.db").exists()  # requests survive a restart: on disk, not in memory


async def test_a_dead_child_stops_the_whole_run_with_its_log(tmp_path):
    env = up_env(tmp_path)
    url = f"http://127.0.0.1:{env['AIOS_GATEWAY_PORT']}"
    process = start_up(env)
    try:
        await wait_healthy(url, process)
        kids = children_of(process)
        actions = next(k for k in kids if "actions" in " ".join(k.cmdline()))
        actions.kill()
        out, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
    assert process.returncode == 1, out
    assert "ERROR: actions exited unexpectedly" in out
    assert "Last lines of its log" in out
    assert not [k for k in kids if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
