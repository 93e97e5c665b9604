"""Who is calling: from the bearer token, or from a signed-in web session; never from the body.

A request with an `Authorization` header is judged by it alone: a bearer token, or `Session <id>`
(the embedded widget's session). Without one, the session cookie of a single sign-on counts, and a
state change made with it (POST, PUT, PATCH, DELETE) must carry the session's CSRF token in
`X-CSRF-Token`: another site can make the browser send the cookie, but cannot read the token. The
session is looked up once per request, in the database (so signing out holds at once for every
replica), and the person in the directory as it is now.
"""

from __future__ import annotations

import secrets

from fastapi import Request

from assistant.directory import User
from assistant.errors import Forbidden, Unauthorized
from assistant.settings import Settings
from channels.services import GatewayServices
from channels.web.sessions import WebSession

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MISSING = object()


def services_of(request: Request) -> GatewayServices:
    return request.app.state.services


def session_cookie_name(settings: Settings) -> str:
    return "__Host-aios_session" if settings.oidc.secure_cookies(settings.core.mode) else "aios_session"


def widget_session_id(request: Request) -> str | None:
    """The id in `Authorization: Session <id>` (the embedded widget's session), or None."""
    header = request.headers.get("authorization", "")
    return header[8:].strip() if header[:8].lower() == "session " else None


def check_csrf(session: WebSession, sent: str) -> None:
    """A change made with the session cookie must carry the session's CSRF token (else 403)."""
    if not secrets.compare_digest(sent.encode(), session.csrf.encode()):
        raise Forbidden("missing or wrong CSRF token (X-CSRF-Token)", code="csrf")


def session_of(request: Request) -> WebSession | None:
    """The live web session of this request's cookie (looked up once per request), or None."""
    cached = request.scope.setdefault("state", {}).get("aios_session", _MISSING)
    if cached is not _MISSING:
        return cached
    services = services_of(request)
    found = None
    if services.sessions is not None:
        cookie = request.cookies.get(session_cookie_name(services.settings))
        if cookie:
            found = services.sessions.find(cookie)
    request.scope["state"]["aios_session"] = found
    return found


def current_user(request: Request) -> User:
    """FastAPI dependency: the person of a valid bearer token or web session (else 401; 403 without CSRF)."""
    services = services_of(request)
    header = request.headers.get("authorization")
    widget_session = widget_session_id(request)
    if widget_session is not None:
        # The embedded widget's sign-in (handed over from a first-party popup, see /auth/handoff):
        # a header, which no other site can make the browser send, so no CSRF token is needed.
        found = services.sessions.find(widget_session) if services.sessions is not None else None
        person = services.directory.find(found.user_id) if found is not None else None
        if person is None:
            raise Unauthorized("the widget's session has ended; please sign in again")
        return person
    if header is None:
        session = session_of(request)
        if session is not None:
            if request.method in UNSAFE_METHODS:
                check_csrf(session, request.headers.get("x-csrf-token", ""))
            user = services.directory.find(session.user_id)
            if user is None:
                raise Unauthorized("this person is no longer in the directory")
            return user
    claims = services.tokens.verify_header(header)
    return services.directory.get(claims.user_id)


def admin_user(request: Request) -> User:
    user = current_user(request)
    if not user.is_admin:
        raise Forbidden("this needs the admin role")
    return user
