"""Who is calling: the user comes from the bearer token, never from the request body."""

from __future__ import annotations

from fastapi import Request

from assistant.directory import User
from assistant.errors import Forbidden
from channels.services import GatewayServices


def services_of(request: Request) -> GatewayServices:
    return request.app.state.services


def current_user(request: Request) -> User:
    """FastAPI dependency: the directory user of a valid `Authorization: Bearer` token (else 401)."""
    services = services_of(request)
    claims = services.tokens.verify_header(request.headers.get("authorization"))
    return services.directory.get(claims.user_id)


def admin_user(request: Request) -> User:
    user = current_user(request)
    if not user.is_admin:
        raise Forbidden("this needs the admin role")
    return user
