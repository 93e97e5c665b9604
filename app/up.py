"""`aios up`: the whole assistant on the embedded defaults, one command, Ctrl-C stops it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from temporalio.client import Client

from app import llm_server, rasa_server
from app.db_cli import databases
from app.supervisor import Service, ServiceFailed, Supervisor
from assistant import health, schema
from assistant.settings import Settings
from knowledge.health import check_knowledge
from workflows import search_attributes
from workflows.client import connect


def aios_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


def child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("ANONYMIZED_TELEMETRY", "False")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def temporal_service(settings: Settings, ready: Callable[[], Awaitable[bool]]) -> Service:
    t = settings.temporal
    host, _, port = t.address.rpartition(":")
    argv = [str(t.cli_path), "server", "start-dev", "--db-filename", str(settings.core.var_dir / "temporal.db"),
            "--ip", host, "--port", port, "--namespace", t.namespace, *search_attributes.dev_server_flags()]
    argv += ["--ui-port", str(t.ui_port)] if t.ui_port else ["--headless"]
    # The Go server reads OTEL_* too (and refuses what it does not know): the embedded one is not traced.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return Service("temporal", argv, ready, env=env, timeout=60, ports=((host, int(port)),))


class Stack:
    """The services of one run and how to tell they are ready."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.http = httpx.AsyncClient()
        self.temporal: Client | None = None

    async def _temporal_ready(self) -> bool:
        if self.temporal is None:
            self.temporal = await connect(self.settings.temporal)
        return (await health.check_temporal(self.temporal, self.settings)).ok

    async def _worker_ready(self) -> bool:
        return (await health.check_worker(self.temporal, self.settings)).ok

    async def _actions_ready(self) -> bool:
        return (await health.check_actions(self.settings, self.http)).ok

    async def _llama_server_ready(self) -> bool:
        r = await self.http.get(f"{self.settings.knowledge.llama_server_url}/health", timeout=3.0)
        return r.status_code == 200

    async def _knowledge_ready(self) -> bool:
        return (await check_knowledge(self.settings, self.http)).ok

    async def _rasa_ready(self) -> bool:
        return (await health.check_rasa(self.settings, self.http)).ok

    async def _gateway_ready(self) -> bool:
        r = await self.http.get(f"{self.settings.gateway.url}/healthz", timeout=3.0)
        return r.status_code == 200

    def services(self, model: Path) -> list[Service]:
        s = self.settings
        env = child_env(s)
        out = []
        if s.temporal.embedded:
            out.append(temporal_service(s, self._temporal_ready))
        else:
            out.append(Service("temporal", [], self._temporal_ready, timeout=30))  # external cluster
        if s.knowledge.llm_backend == "llama-server":
            k = s.knowledge
            out.append(Service("llama-server", llm_server.command(s), self._llama_server_ready, env=env,
                               timeout=120, ports=((k.llama_server_host, k.llama_server_port),)))
        out += [
            Service("worker", aios_argv("worker"), self._worker_ready, env=env, timeout=60),
            # Loads the sample handbook into an empty store on first start.
            Service("knowledge", aios_argv("knowledge", "serve", "--seed", str(s.core.data_dir / "knowledge")),
                    self._knowledge_ready, env=env, timeout=240, ports=((s.knowledge.host, s.knowledge.port),)),
            Service("actions", aios_argv("actions"), self._actions_ready, env=env, timeout=60,
                    ports=((s.actions.host, s.actions.port),)),
            Service("rasa", rasa_server.run_command(s, model), self._rasa_ready,
                    env=rasa_server.rasa_env(s), cwd=s.core.var_dir, timeout=240,
                    ports=((s.rasa.host, s.rasa.port),)),
            Service("gateway", aios_argv("gateway"), self._gateway_ready, env=env, timeout=60,
                    ports=((s.gateway.host, s.gateway.port),)),
        ]
        return out

    async def close(self) -> None:
        await self.http.aclose()


async def up(settings: Settings, *, extra: list[Callable[[Stack], Service]] | None = None) -> int:
    settings.core.check_secure()
    settings.check_exposure()
    settings.core.var_dir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(settings.core.logs_dir)
    supervisor.say("AIOS Assistant: starting (Ctrl-C stops everything)")
    supervisor.say(f"  {settings.mode_banner()}")
    for area, engine in databases(settings):
        try:
            found = schema.prepare(engine, area, auto=settings.core.database_auto_upgrade)
        finally:
            engine.dispose()
        supervisor.say(f"  {area} schema: {found.current}")
    model = rasa_server.ensure_model(settings)
    supervisor.say(f"  rasa model: {model}")
    stack = Stack(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    services = stack.services(model)
    for make in extra or []:
        services.insert(-1, make(stack))  # before the gateway
    failure: ServiceFailed | None = None
    try:
        failure = await supervisor.run(services, stop, banner=_banner(settings))
    finally:
        supervisor.report(failure)
        supervisor.stop_all()
        await stack.close()
        if failure is not None and failure.while_starting:
            await _diagnose_after(settings, supervisor)
        elif failure is not None:
            supervisor.say("`.venv/bin/aios doctor` checks this machine and install.")
    supervisor.say("Stopped.")
    return 1 if failure else 0


async def _diagnose_after(settings: Settings, supervisor: Supervisor) -> None:
    """A service died while starting: say what is wrong with the machine or the install, if anything."""
    from app.doctor import diagnose, render

    supervisor.say("Checking this machine and install (`.venv/bin/aios doctor` runs the same checks):")
    supervisor.say(render(await diagnose(settings)))


def _banner(settings: Settings) -> str:
    url = settings.gateway.url
    return (
        f"\nAIOS Assistant is up: open {url}\n"
        "Log in with a token for a demo user (alice, bob, carol, dave, erin, frank):\n"
        "    .venv/bin/aios token alice\n"
        f"Health: {url}/healthz    Logs: {settings.core.logs_dir}\n"
        f"{settings.mode_banner()}\n"
    )
