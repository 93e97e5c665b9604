"""The real stack on free loopback ports, in one process tree: for `aios eval dialogue`, the benchmarks
and the end-to-end tests.

Temporal dev server (in memory), worker, action server and Rasa in subprocesses, gateway in-process.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app import rasa_server
from app.serving import free_port, serve_in_loop
from app.supervisor import die_with_parent, tail
from assistant import health
from assistant.settings import (
    ActionServerSettings,
    CoreSettings,
    GatewaySettings,
    RasaSettings,
    Settings,
    TemporalSettings,
)
from assistant.settings.knowledge import KnowledgeSettings
from assistant.settings.metrics import MetricsSettings
from knowledge.health import check_knowledge
from workflows import search_attributes


def make_settings(var_dir: Path, **overrides) -> Settings:
    """Settings for one test session: its own var dir, free ports, a non-default secret."""
    return Settings(
        core=CoreSettings(var_dir=var_dir, secret_key=SecretStr("test-secret-" + "x" * 32), mode="dev", **overrides),
        # Scripted users and benchmarks send far faster than people: no per-person limits here.
        gateway=GatewaySettings(port=free_port(), turns_per_minute=1_000_000, questions_per_minute=1_000_000),
        rasa=RasaSettings(port=free_port()),
        actions=ActionServerSettings(port=free_port()),
        knowledge=KnowledgeSettings(port=free_port(), llama_server_port=free_port()),
        temporal=TemporalSettings(task_queue="aios-test-requests", address="127.0.0.1:0"),
        metrics=MetricsSettings(worker_address=f"127.0.0.1:{free_port()}",
                                actions_address=f"127.0.0.1:{free_port()}"),
    )


async def start_temporal(settings: Settings) -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_local(
        namespace=settings.temporal.namespace,
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(settings.temporal.cli_path),
        ui=False,
        search_attributes=list(search_attributes.ALL),
        dev_server_log_level="error",
    )
    settings.temporal.address = env.client.service_client.config.target_host
    return env


class Child:
    """A service in a subprocess, with its output in a log file for failure messages."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, *, env: dict[str, str], cwd: Path | None = None):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "a")
        self.process = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                        start_new_session=True, preexec_fn=die_with_parent)

    async def wait_ready(self, check, timeout: float) -> None:
        """Until `check()` says ready; a child that exits or never gets ready is stopped, and that raises."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{tail(self.log_path)}")
            try:
                if await check():
                    return
            except Exception:  # noqa: BLE001 - not ready yet
                pass
            await asyncio.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{tail(self.log_path)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self._log.close()


def mint_token(settings: Settings, user_id: str, **kw) -> str:
    """An hour's login token for a directory user, signed with `settings`' secret (tests, benchmarks)."""
    from assistant.directory import Directory
    from assistant.tokens import TokenService

    directory = Directory.load(settings.core.directory_file)
    return TokenService(settings.core.secret_key.get_secret_value(), directory, ttl_seconds=3600).mint(user_id, **kw)


def child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(settings.to_env())
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
                "AIOS_LOG_LEVEL": "INFO"})
    return env


async def start_actions(settings: Settings) -> Child:
    child = Child("actions", [sys.executable, "-m", "app.cli", "actions"], settings.core.logs_dir,
                  env=child_env(settings))
    async with httpx.AsyncClient() as http:
        await child.wait_ready(lambda: _ok(health.check_actions(settings, http)), timeout=60)
    return child


async def start_knowledge(settings: Settings, *, seed: Path | None = None) -> Child:
    """The knowledge service, with the sample handbook (or `seed`) loaded into its empty store."""
    folder = seed or settings.core.data_dir / "knowledge"
    child = Child("knowledge", [sys.executable, "-m", "app.cli", "knowledge", "serve", "--seed", str(folder)],
                  settings.core.logs_dir, env=child_env(settings))
    async with httpx.AsyncClient() as http:
        await child.wait_ready(lambda: _ok(check_knowledge(settings, http)), timeout=180)
    return child


async def start_rasa(settings: Settings, *, name: str = "rasa") -> Child:
    model = rasa_server.ensure_model(settings)
    child = Child(name, rasa_server.run_command(settings, model), settings.core.logs_dir,
                  env=rasa_server.rasa_env(settings), cwd=settings.core.var_dir)
    async with httpx.AsyncClient() as http:
        await child.wait_ready(lambda: _ok(health.check_rasa(settings, http)), timeout=240)
    return child


async def _ok(check) -> bool:
    return (await check).ok


@asynccontextmanager
async def serve_gateway(app, settings: Settings):
    """The gateway on real HTTP (uvicorn) inside the test's event loop."""
    async with serve_in_loop(app, settings.gateway.host, settings.gateway.port) as server:
        yield server


@dataclass
class Stack:
    settings: Settings
    temporal: Client
    url: str
    children: dict[str, Child] = field(default_factory=dict)

    async def stop(self, name: str) -> None:
        self.children[name].stop()

    async def start(self, name: str) -> None:
        starters = {"actions": start_actions, "rasa": start_rasa, "knowledge": start_knowledge}
        self.children[name] = await starters[name](self.settings)

    def token(self, user_id: str, **kw) -> str:
        return mint_token(self.settings, user_id, **kw)

    def client(self, user_id: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token(user_id)}"} if user_id else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=60)

    async def reset_conversation(self, user_id: str) -> None:
        """Start the user's conversation afresh (Rasa's API; tests only)."""
        s = self.settings
        async with httpx.AsyncClient() as http:
            r = await http.post(f"{s.rasa.url}/conversations/{user_id}/tracker/events",
                                params={"token": s.rasa_auth_token()},
                                json=[{"event": "restart"}],
                                timeout=30)
            r.raise_for_status()


@asynccontextmanager
async def running_stack(settings: Settings) -> AsyncIterator[Stack]:
    """Everything up for `settings` (free ports from make_settings), torn down on exit."""
    from channels.app import create_app
    from channels.services import GatewayServices
    from workflows.worker import build_worker

    env = await start_temporal(settings)
    try:
        async with build_worker(env.client, settings):
            knowledge = await start_knowledge(settings)
            try:
                actions = await start_actions(settings)
            except BaseException:
                knowledge.stop()
                raise
            rasa = None
            try:
                rasa = await start_rasa(settings)
                services = GatewayServices.build(settings, temporal=env.client)
                try:
                    async with serve_gateway(create_app(settings, services=services), settings):
                        yield Stack(settings=settings, temporal=env.client, url=settings.gateway.url,
                                    children={"knowledge": knowledge, "actions": actions, "rasa": rasa})
                finally:
                    await services.close()
            finally:
                if rasa is not None:
                    rasa.stop()
                actions.stop()
                knowledge.stop()
    finally:
        await env.shutdown()
