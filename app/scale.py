"""`aios up --profile scale`: the multi-replica topology of a company deployment, on one machine.

On loopback, all started and stopped by this process:

    PostgreSQL, Redis, a Chroma server      (app.engines, Debian's servers installed by `make env`)
    Temporal                                (its dev server as a separate process, set up like a cluster)
    llama-server                            (llama.cpp's own server, shared by the knowledge replicas)
    N workers, N knowledge services, N action servers, N Rasa processes, N gateways
    round-robin balancers                   (gateway, knowledge and actions ports: what a Service does)

Rasa is reached by the gateways' own client (`AIOS_RASA_URLS`), which keeps a conversation on one
process and moves it when that one is down. A replica that exits is started again by the supervisor.
The data lives in <var>/scale/, apart from the embedded default's.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app import llm_server, rasa_server
from app.balancer import Balancer
from app.engines import LocalChroma, LocalPostgres, LocalRedis, free_port
from app.supervisor import Service, ServiceFailed, Supervisor
from app.up import aios_argv, child_env
from assistant import health, schema
from assistant.db import make_engine
from assistant.errors import ConfigurationError
from assistant.settings import Settings, private_file
from knowledge.health import check_knowledge


@dataclass
class Replica:
    kind: str  # gateway, knowledge, actions or rasa: the settings area whose port is its own
    name: str
    settings: Settings

    @property
    def port(self) -> int:
        return int(getattr(self.settings, self.kind).port)

    def env(self) -> dict[str, str]:
        return child_env(self.settings) | self.settings.to_env()


@dataclass
class Topology:
    shared: Settings
    replicas: int
    postgres: LocalPostgres
    redis: LocalRedis
    chroma: LocalChroma
    balancers: list[Balancer] = field(default_factory=list)
    http: httpx.AsyncClient = field(default_factory=httpx.AsyncClient)

    def replica(self, kind: str, i: int) -> Replica:
        s = self.shared.model_copy(deep=True)
        # Its own port; the others reach it through the balancer (Rasa: through the gateways' list).
        section: Any = getattr(s, kind)
        section.port = free_port()
        if kind == "actions":  # its metrics endpoint too: several on one machine
            s.metrics.actions_address = f"127.0.0.1:{free_port()}"
        return Replica(kind, f"{kind}-{i + 1}", s)

    async def _ok(self, check: Awaitable[health.ComponentHealth]) -> bool:
        return (await check).ok

    def ready(self, kind: str, s: Settings) -> Callable[[], Awaitable[bool]]:
        """Whether this replica (not any replica of its kind) is up."""
        if kind == "rasa":
            s = s.model_copy(deep=True)
            s.rasa.urls = ""  # its own URL only
        checks: dict[str, Callable[[], Awaitable[bool]]] = {
            "knowledge": lambda: self._ok(check_knowledge(s, self.http)),
            "actions": lambda: self._ok(health.check_actions(s, self.http)),
            "rasa": lambda: self._ok(health.check_rasa(s, self.http)),
            "gateway": lambda: self._http_ok(f"{s.gateway.url}/livez"),
            "llama-server": lambda: self._http_ok(f"{s.knowledge.llama_server_url}/health"),
            "temporal": lambda: self._temporal_up(),
        }
        return checks[kind]

    async def _http_ok(self, url: str) -> bool:
        return (await self.http.get(url, timeout=3.0)).status_code == 200

    async def _temporal_up(self) -> bool:
        from workflows.client import connect

        await connect(self.shared.temporal)
        return True

    def worker_ready(self, n: int) -> Callable[[], Awaitable[bool]]:
        """The n-th worker is up when n of them poll the task queue."""
        async def ready() -> bool:
            from workflows.client import connect

            found = await health.check_worker(await connect(self.shared.temporal), self.shared)
            return found.ok and int(found.detail.split()[0]) >= n
        return ready


def shared_settings(settings: Settings, pg: LocalPostgres, redis: LocalRedis, chroma: LocalChroma) -> Settings:
    """What every replica shares: the stores, Temporal as an external cluster, llama-server."""
    s = settings.model_copy(deep=True)
    s.core.var_dir = settings.core.var_dir / "scale"
    s.core.database_url = pg.url()
    s.core.database_auto_upgrade = False
    s.rasa.lock_store_url = redis.url()
    s.knowledge.chroma_url = chroma.url
    s.knowledge.store_dir = s.core.var_dir / "knowledge"
    s.knowledge.llm_backend = "llama-server"
    s.temporal.embedded = False
    host, _, port = s.temporal.address.rpartition(":")
    if port == "0":  # "any free port" (the tests' settings)
        s.temporal.address = f"{host}:{free_port()}"
    return s


def temporal_service(topology: Topology) -> Service:
    """Temporal's server in its own process, without our search attributes: `aios temporal setup`
    registers them, as on a company's cluster."""
    t = topology.shared.temporal
    host, _, port = t.address.rpartition(":")
    argv = [str(t.cli_path), "server", "start-dev", "--headless", "--ip", host, "--port", port,
            "--http-port", str(free_port()), "--metrics-port", str(free_port()),
            "--db-filename", str(topology.shared.core.var_dir / "temporal.db"), "--namespace", t.namespace]
    return Service("temporal", argv, topology.ready("temporal", topology.shared), timeout=60,
                   ports=((host, int(port)),), restart=True)


def replica_services(topology: Topology, model_path: Path) -> tuple[list[Service], dict[str, list[Replica]]]:
    made: dict[str, list[Replica]] = {k: [topology.replica(k, i) for i in range(topology.replicas)]
                                      for k in ("knowledge", "actions", "rasa", "gateway")}
    rasa_urls = ",".join(r.settings.rasa.url for r in made["rasa"])
    for r in made["rasa"]:  # each its share of the cores (one process would take them all)
        r.settings.rasa.threads = r.settings.rasa.threads or max(1, (os.cpu_count() or 1) // topology.replicas)
    for replicas in made.values():
        for r in replicas:
            r.settings.rasa.urls = rasa_urls
    seed = str(topology.shared.core.data_dir / "knowledge")
    services: list[Service] = []
    for i in range(topology.replicas):
        env = child_env(topology.shared) | topology.shared.to_env()
        env["AIOS_METRICS_WORKER_ADDRESS"] = f"127.0.0.1:{free_port()}"  # several workers on one machine
        services.append(Service(f"worker-{i + 1}", aios_argv("worker"), topology.worker_ready(i + 1), env=env,
                                timeout=60, restart=True))
    commands = {"knowledge": aios_argv("knowledge", "serve", "--seed", seed), "actions": aios_argv("actions"),
                "gateway": aios_argv("gateway")}
    for kind in ("knowledge", "actions", "rasa", "gateway"):
        for r in made[kind]:
            s = r.settings
            if kind == "rasa":
                argv, env, cwd = rasa_server.run_command(s, model_path), rasa_server.rasa_env(s), s.core.var_dir
            else:
                argv, env, cwd = commands[kind], r.env(), None
            services.append(Service(r.name, argv, topology.ready(kind, s), env=env, cwd=cwd,
                                    timeout=240 if kind in ("knowledge", "rasa") else 60, restart=True))
    return services, made


async def up_scale(settings: Settings, *, replicas: int = 2) -> int:
    """Start the whole topology, keep replicas running (restarting any that exits) until Ctrl-C."""
    if replicas < 1:
        raise ConfigurationError("--replicas must be at least 1")
    settings.core.check_secure()
    settings.check_exposure()
    root = settings.core.var_dir / "scale"
    supervisor = Supervisor(root / "logs")
    supervisor.say(f"AIOS Assistant, scale profile: {replicas} replica(s) of each service (Ctrl-C stops everything)")
    postgres, redis, chroma = LocalPostgres(root / "postgres"), LocalRedis(root / "redis"), LocalChroma(root / "chroma")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    failure: ServiceFailed | None = None
    topology: Topology | None = None
    try:
        for engine in (postgres, redis, chroma):
            await asyncio.to_thread(engine.start)
            supervisor.say(f"  {type(engine).__name__.removeprefix('Local').lower()} on 127.0.0.1:{engine.port}")
        topology = Topology(shared_settings(settings, postgres, redis, chroma), replicas, postgres, redis, chroma)
        shared = topology.shared
        await asyncio.to_thread(_upgrade, shared)
        model = rasa_server.ensure_model(shared)
        await supervisor.start(temporal_service(topology))
        await _temporal_setup(shared, supervisor)
        k = shared.knowledge
        await supervisor.start(Service("llama-server", llm_server.command(shared),
                                       topology.ready("llama-server", shared), timeout=120,
                                       ports=((k.llama_server_host, k.llama_server_port),), restart=True))
        services, made = replica_services(topology, model)
        # The balancers first: a replica's first turn may already need another service's.
        for kind, port in (("gateway", settings.gateway.port), ("knowledge", shared.knowledge.port),
                           ("actions", shared.actions.port)):
            backends = [("127.0.0.1", r.port) for r in made[kind]]
            topology.balancers.append(await Balancer(kind, "127.0.0.1", port, backends).start())
        describe(topology, made, root)
        failure = await supervisor.run(services, stop, banner=f"\nAIOS Assistant (scale profile) is up: "
                                       f"{settings.gateway.url} (round robin over {replicas} gateways)")
    except ServiceFailed as exc:  # Temporal or llama-server, started before the replicas
        failure = exc
    finally:
        supervisor.report(failure)
        if topology is not None:
            for balancer in topology.balancers:
                await balancer.close()
            await topology.http.aclose()
        supervisor.stop_all()
        for engine in (chroma, redis, postgres):
            await asyncio.to_thread(engine.stop)
    supervisor.say("Stopped.")
    return 1 if failure else 0


def describe(topology: Topology, made: dict[str, list[Replica]], root: Path) -> None:
    """<root>/topology.json (every port) and <root>/settings.env (mode 0600: the shared settings, secrets
    included), so that `set -a; . var/scale/settings.env` points `aios token`, `aios audit verify` and the
    like at this topology."""
    ports = {kind: [r.port for r in replicas] for kind, replicas in made.items()}
    ports |= {"postgres": [topology.postgres.port], "redis": [topology.redis.port], "chroma": [topology.chroma.port],
              "llama-server": [topology.shared.knowledge.llama_server_port]}
    (root / "topology.json").write_text(json.dumps(ports, indent=2) + "\n")
    env = root / "settings.env"
    env.unlink(missing_ok=True)
    lines = "".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(topology.shared.to_env().items()))
    private_file(env, lambda: lines)


def _upgrade(settings: Settings) -> None:
    engine = make_engine(settings.core.database_url)
    try:
        for area in ("core", "knowledge"):
            schema.upgrade(engine, area)
    finally:
        engine.dispose()


async def _temporal_setup(settings: Settings, supervisor: Supervisor) -> None:
    env = child_env(settings) | settings.to_env()
    done = await asyncio.to_thread(subprocess.run, aios_argv("temporal", "setup"), env=env, capture_output=True,
                                   text=True, timeout=120)
    if done.returncode != 0:
        raise ServiceFailed("temporal setup", f"exited with code {done.returncode}", done.stderr[-2000:])
    supervisor.say(f"  temporal: {done.stdout.strip()}")
