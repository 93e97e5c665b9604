"""`/livez` (this process serves), `/healthz` (each component's state; 503 when one is down), `/metrics`."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from assistant import health
from channels.api.knowledge import knowledge_health
from channels.auth import admin_user, services_of

router = APIRouter()

# Extra checks registered by optional parts (e.g. the knowledge service): name -> coroutine factory.
EXTRA_CHECKS: list = [knowledge_health]


@router.get("/livez")
async def livez() -> JSONResponse:
    """For a container's liveness and readiness probes: answers while this gateway serves requests. A
    dependency that is down makes every replica equally unable, so it is /healthz's business, not the
    load balancer's (which would otherwise drop every gateway and the friendly error with them)."""
    return JSONResponse({"status": "ok"})


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    services = services_of(request)
    settings = services.settings
    temporal = await services.temporal()
    checks = [
        health.check_rasa(settings, services.http),
        health.check_actions(settings, services.http),
        health.check_temporal(temporal, settings),
        health.check_worker(temporal, settings),
        *(check(services) for check in EXTRA_CHECKS),
    ]
    results = await asyncio.gather(*checks)
    ok = all(r.ok for r in results)
    body = {"status": "ok" if ok else "degraded", "components": {r.name: r.as_dict() for r in results}}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus, for a scraper with the metrics token (`aios metrics-token`) or an admin."""
    services = services_of(request)
    header = request.headers.get("authorization") or ""
    presented = header[7:].strip() if header[:7].lower() == "bearer " else ""
    expected = services.settings.metrics_token()
    if not (presented and hmac.compare_digest(presented.encode(), expected.encode())):
        admin_user(request)  # anyone but an admin: 401 or 403
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
