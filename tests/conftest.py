"""Session-wide fixtures: the real stack is started once and shared by the end-to-end tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from app.engines import LocalPostgres, LocalRedis
from app.local_stack import (
    Stack,
    make_settings,
    serve_gateway,
    start_actions,
    start_knowledge,
    start_rasa,
    start_temporal,
)
from app.otlp_receiver import OtlpReceiver
from assistant.settings.telemetry import OtelSettings
from assistant.telemetry import configure_tracing
from channels.app import create_app
from channels.services import GatewayServices
from tests.dbs import ENGINES, dispose_all, fresh_url
from tests.fakes.chat_stack import chat_fakes
from workflows.client import connect
from workflows.metrics import prometheus_runtime
from workflows.worker import build_worker


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items) -> None:
    """`make test` runs two xdist workers with --dist loadgroup: every test on the shared stack
    goes to one worker, so the stack (Rasa, action server, knowledge service) starts once; the
    tests that start their own services or need none spread over both."""
    for item in items:
        if "stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("stack"))


def pytest_collection_finish(session) -> None:
    """Fail loudly if xdist stopped honouring the groups (it did silently with pytest 9)."""
    if session.config.getoption("dist", "no") != "loadgroup" or not hasattr(session.config, "workerinput"):
        return
    lost = [i.nodeid for i in session.items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]
    if lost:
        raise pytest.UsageError(f"pytest-xdist did not group {lost[0]} (and {len(lost) - 1} more): "
                                "check the pytest and pytest-xdist versions in requirements/main.in")


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for this test process (under /tmp: the server's user must reach it)."""
    root = Path(tempfile.mkdtemp(prefix="aios-pg-"))
    os.chmod(root, 0o755)
    server = LocalPostgres(root, durable=False).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real Redis server for this test process, with a password."""
    server = LocalRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(params=ENGINES)
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database, once on SQLite and once on PostgreSQL."""
    server = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    yield fresh_url(request.param, tmp_path, server)
    dispose_all()


@pytest.fixture(scope="session")
def session_var(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def settings(session_var):
    return make_settings(session_var)


@pytest.fixture(scope="session")
async def temporal_env(settings):
    env = await start_temporal(settings)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def traces(settings) -> Iterator[OtlpReceiver]:
    """The stack traces. The services in processes of their own export to a local OTLP receiver; all
    of them, and this process (gateway, worker), to the local store of `aios trace`. (Not OTLP from this
    process: the OTLP exporter draws its retry jitter from `random` on every export, which Hypothesis
    refuses in the fuzz tests.) Before the worker, so that it gets Temporal's tracing interceptor."""
    os.environ.setdefault("OTEL_BSP_SCHEDULE_DELAY", "200")  # the SDK's batch delay (ms), children too
    with OtlpReceiver() as receiver:
        settings.otel.exporter_otlp_traces_endpoint = f"{receiver.url}/v1/traces"
        settings.telemetry.traces_keep = 500
        here = settings.model_copy(update={"otel": OtelSettings(traces_exporter="none")})
        provider = configure_tracing(here, "tests")
        yield receiver
        if provider is not None:
            provider.shutdown()


@pytest.fixture(scope="session")
def worker_metrics(settings) -> str:
    """host:port of this process's Temporal runtime Prometheus endpoint: one runtime per process,
    shared by the session's worker and the tests that scrape it."""
    return settings.metrics.worker_address


@pytest.fixture(scope="session")
async def worker(temporal_env, settings, traces, worker_metrics):
    client = await connect(settings.temporal, runtime=prometheus_runtime(worker_metrics))
    w = build_worker(client, settings)
    async with w:
        yield w


@pytest.fixture(scope="session")
async def chat(settings):
    """Fake Slack workspace, fake Bot Connector and a local JWKS; the stack's gateway talks to them."""
    async with chat_fakes() as fakes:
        yield fakes


@pytest.fixture(scope="session")
async def stack(settings, temporal_env, worker, chat):
    """Temporal + worker + knowledge service + action server + Rasa + gateway, all real, on loopback."""
    children = {"knowledge": await start_knowledge(settings)}
    try:
        children["actions"] = await start_actions(settings)
        children["rasa"] = await start_rasa(settings)
        services = GatewayServices.build(settings, temporal=temporal_env.client)
        try:
            chat.configure(settings)
            app = create_app(settings, services=services)
            chat.attach(app)
            async with serve_gateway(app, settings):
                yield Stack(settings=settings, temporal=temporal_env.client, url=settings.gateway.url,
                            children=children)
        finally:
            await services.close()
    finally:
        for child in children.values():
            child.stop()
