"""A local Microsoft Graph fake: client-credentials token endpoint and /users/{id}/events."""

from __future__ import annotations

import secrets

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.connectors.faults import FaultPlan

_CODES = {400: "BadRequest", 401: "InvalidAuthenticationToken", 403: "ErrorAccessDenied",
          404: "ErrorItemNotFound", 429: "ApplicationThrottled", 500: "generalException",
          503: "serviceNotAvailable"}


def error_body(status: int, message: str) -> dict:
    return {"error": {"code": _CODES.get(status, "generalException"), "message": message,
                      "innerError": {"request-id": "fake", "date": "2026-01-01T00:00:00"}}}


def create_fake_graph(*, tenant: str, client_id: str, client_secret: str, users: list[str],
                      page_size: int = 10) -> FastAPI:
    """Token endpoint at /{tenant}/oauth2/v2.0/token, API under /v1.0."""
    app = FastAPI()
    app.state.faults = FaultPlan(error_body)
    app.state.faults.install(app)
    app.state.tokens = set()
    app.state.events = {u.lower(): [] for u in users}
    app.state.tokens_issued = 0

    def err(status: int, message: str) -> JSONResponse:
        return JSONResponse(error_body(status, message), status_code=status)

    @app.post(f"/{tenant}/oauth2/v2.0/token")
    async def token(request: Request):
        form = await request.form()
        if form.get("grant_type") != "client_credentials" or form.get("scope") != "https://graph.microsoft.com/.default":
            return JSONResponse({"error": "invalid_request", "error_description": "AADSTS900144"}, status_code=400)
        if form.get("client_id") != client_id or form.get("client_secret") != client_secret:
            return JSONResponse({"error": "invalid_client",
                                 "error_description": "AADSTS7000215: Invalid client secret provided."},
                                status_code=401)
        value = secrets.token_urlsafe(24)
        app.state.tokens.add(value)
        app.state.tokens_issued += 1
        return {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": value}

    def denied(request: Request) -> JSONResponse | None:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in app.state.tokens:
            return err(401, "Access token is empty or invalid.")
        return None

    @app.post("/v1.0/users/{user}/events")
    async def create_event(user: str, request: Request):
        if (d := denied(request)) is not None:
            return d
        events = app.state.events.get(user.lower())
        if events is None:
            return err(404, f"The requested user '{user}' is invalid.")
        body = await request.json()
        for field in ("subject", "start", "end"):
            if field not in body:
                return err(400, f"Missing property '{field}'.")
        txn = body.get("transactionId")
        for event in events:
            if txn and event.get("transactionId") == txn:
                return JSONResponse(event, status_code=201)
        event = {**body, "id": "AAMk" + secrets.token_hex(12), "iCalUId": secrets.token_hex(16),
                 "webLink": f"https://outlook.office365.com/owa/?itemid={len(events) + 1}"}
        events.append(event)
        return JSONResponse(event, status_code=201)

    @app.get("/v1.0/users/{user}/events")
    async def list_events(user: str, request: Request, skip: int = 0):
        if (d := denied(request)) is not None:
            return d
        events = app.state.events.get(user.lower())
        if events is None:
            return err(404, f"The requested user '{user}' is invalid.")
        page = events[skip:skip + page_size]
        body: dict = {"value": page}
        if skip + page_size < len(events):
            body["@odata.nextLink"] = str(request.url.include_query_params(skip=skip + page_size))
        return body

    return app
