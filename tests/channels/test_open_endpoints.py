"""No endpoint answers strangers except the pages and /healthz: /metrics needs a token, the API docs
are off in production mode."""

from __future__ import annotations

import httpx
import pytest

from app.local_stack import make_settings, serve_gateway
from assistant.directory import Directory
from assistant.settings import CoreSettings
from assistant.tokens import TokenService
from channels.app import create_app


def _token(settings, user: str) -> str:
    return TokenService(settings.core.secret_key.get_secret_value(),
                        Directory.load(settings.core.directory_file), ttl_seconds=600).mint(user)


@pytest.fixture(scope="module")
async def dev_gateway(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("open"))
    settings.temporal.address = "127.0.0.1:1"
    async with serve_gateway(create_app(settings), settings):
        yield settings


async def test_metrics_need_the_scrapers_token_or_an_admin(dev_gateway):
    s = dev_gateway
    async with httpx.AsyncClient(base_url=s.gateway.url, timeout=10) as http:
        assert (await http.get("/metrics")).status_code == 401
        alice = await http.get("/metrics", headers={"Authorization": f"Bearer {_token(s, 'alice')}"})
        assert alice.status_code == 403
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer " + "0" * 64})
        assert wrong.status_code == 401
        scraper = await http.get("/metrics", headers={"Authorization": f"Bearer {s.metrics_token()}"})
        assert scraper.status_code == 200 and "aios_chat_turns" in scraper.text
        erin = await http.get("/metrics", headers={"Authorization": f"Bearer {_token(s, 'erin')}"})
        assert erin.status_code == 200


@pytest.mark.parametrize(("api_docs", "served"), [(None, False), (True, True)])
async def test_api_docs_are_off_in_production_unless_asked_for(tmp_path, api_docs, served):
    settings = make_settings(tmp_path)
    settings.core = CoreSettings(var_dir=tmp_path, mode="prod", secret_key="p" * 48)
    settings.gateway.api_docs = api_docs
    settings.temporal.address = "127.0.0.1:1"
    async with serve_gateway(create_app(settings), settings):
        async with httpx.AsyncClient(base_url=settings.gateway.url, timeout=10) as http:
            for path in ("/api/docs", "/api/openapi.json"):
                assert (await http.get(path)).status_code == (200 if served else 404), path


async def test_livez_answers_while_healthz_reports_what_is_down(dev_gateway):
    """The probes' endpoint says only that this gateway serves; Temporal, Rasa and friends being down
    (as here) is /healthz's news, with the details."""
    async with httpx.AsyncClient(base_url=dev_gateway.gateway.url, timeout=30) as http:
        live = await http.get("/livez")
        assert (live.status_code, live.json()) == (200, {"status": "ok"})
        health = await http.get("/healthz")
        assert health.status_code == 503 and health.json()["components"]["rasa"]["ok"] is False
