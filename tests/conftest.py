"""Session-wide fixtures: the real stack is started once and shared by the end-to-end tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from channels.app import create_app  # noqa: E402
from channels.services import GatewayServices  # noqa: E402
from assistant.harness import (  # noqa: E402
    Stack,
    make_settings,
    serve_gateway,
    start_actions,
    start_rasa,
    start_temporal,
)
from workflows.worker import build_worker  # noqa: E402


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
async def worker(temporal_env, settings):
    w = build_worker(temporal_env.client, settings)
    async with w:
        yield w


@pytest.fixture(scope="session")
async def stack(settings, temporal_env, worker):
    """Temporal + worker + action server + Rasa + gateway, all real, on loopback."""
    children = {"actions": await start_actions(settings)}
    try:
        children["rasa"] = await start_rasa(settings)
        services = GatewayServices.build(settings, temporal=temporal_env.client)
        try:
            async with serve_gateway(create_app(settings, services=services), settings):
                yield Stack(settings=settings, temporal=temporal_env.client, url=settings.gateway.url,
                            children=children)
        finally:
            await services.close()
    finally:
        for child in children.values():
            child.stop()
