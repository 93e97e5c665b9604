"""A local Okta fake: SSWS auth, users by id or login, group search, members paged by Link headers."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.connectors.faults import FaultPlan

_CODES = {400: "E0000001", 401: "E0000011", 403: "E0000006", 404: "E0000007", 429: "E0000047", 500: "E0000009"}


def error_body(status: int, message: str) -> dict:
    return {"errorCode": _CODES.get(status, "E0000009"), "errorSummary": message,
            "errorLink": _CODES.get(status, "E0000009"), "errorId": "oae-fake", "errorCauses": []}


def rate_limited(reset_in: float = 1.0) -> dict:
    """Headers of an Okta 429 (no Retry-After: Okta says when the window resets)."""
    return {"X-Rate-Limit-Limit": "600", "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Reset": str(int(time.time() + reset_in))}


def create_fake_okta(*, token: str, users: list[str], groups: list[str], page_limit: int = 200) -> FastAPI:
    """`users` are logins (emails); ids look like Okta's (00u..., 00g...)."""
    app = FastAPI()
    app.state.faults = FaultPlan(error_body)
    app.state.faults.install(app)
    app.state.users = {f"00u{i:017d}": login for i, login in enumerate(users, 1)}
    app.state.groups = {f"00g{i:017d}": name for i, name in enumerate(groups, 1)}
    app.state.members = {gid: [] for gid in app.state.groups}

    def err(status: int, message: str) -> JSONResponse:
        return JSONResponse(error_body(status, message), status_code=status)

    def denied(request: Request) -> JSONResponse | None:
        if request.headers.get("authorization") != f"SSWS {token}":
            return err(401, "Invalid token provided")
        return None

    def user_view(uid: str) -> dict:
        login = app.state.users[uid]
        return {"id": uid, "status": "ACTIVE", "profile": {"login": login, "email": login}}

    def paged(request: Request, items: list, limit: int, after: str | None, key) -> Response:
        limit = max(1, min(limit, page_limit))
        start = 0
        if after is not None:
            ids = [key(x) for x in items]
            start = ids.index(after) + 1 if after in ids else len(items)
        page = items[start:start + limit]
        headers = {}
        if start + limit < len(items):
            nxt = request.url.include_query_params(after=key(page[-1]), limit=limit)
            headers["Link"] = f'<{nxt}>; rel="next"'
        return JSONResponse(page, headers=headers)

    @app.get("/api/v1/users/{ref}")
    async def get_user(ref: str, request: Request):
        if (d := denied(request)) is not None:
            return d
        for uid, login in app.state.users.items():
            if ref in (uid, login):
                return user_view(uid)
        return err(404, f"Not found: Resource not found: {ref} (User)")

    @app.get("/api/v1/groups")
    async def list_groups(request: Request, q: str = "", limit: int = 200, after: str | None = None):
        if (d := denied(request)) is not None:
            return d
        hits = [{"id": gid, "type": "OKTA_GROUP", "profile": {"name": name, "description": ""}}
                for gid, name in app.state.groups.items() if name.lower().startswith(q.lower())]
        return paged(request, hits, limit, after, key=lambda g: g["id"])

    @app.get("/api/v1/groups/{gid}/users")
    async def members(gid: str, request: Request, limit: int = 1000, after: str | None = None):
        if (d := denied(request)) is not None:
            return d
        if gid not in app.state.members:
            return err(404, f"Not found: Resource not found: {gid} (UserGroup)")
        return paged(request, [user_view(u) for u in app.state.members[gid]], limit, after, key=lambda u: u["id"])

    @app.put("/api/v1/groups/{gid}/users/{uid}")
    async def add(gid: str, uid: str, request: Request):
        if (d := denied(request)) is not None:
            return d
        if gid not in app.state.members:
            return err(404, f"Not found: Resource not found: {gid} (UserGroup)")
        if uid not in app.state.users:
            return err(404, f"Not found: Resource not found: {uid} (User)")
        if uid not in app.state.members[gid]:
            app.state.members[gid].append(uid)
        return Response(status_code=204)

    return app
