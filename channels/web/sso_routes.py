"""Single sign-on for the web page, the admin page and the embedded widget.

  GET  /auth/config    what the page should offer: the provider's sign-in, or a pasted token (dev)
  GET  /auth/login     start a sign-in (`next`: a path of this site to come back to)
  GET  /auth/callback  the provider sends the person back here with a code
  GET  /auth/session   who the session cookie belongs to, and the CSRF token its changes must carry
  POST /auth/logout    end the session (and the provider's, when it has an end-session endpoint)

The cookie holds a random session id (HttpOnly, SameSite=Lax, Secure outside dev mode, `__Host-`
prefixed when Secure); everything else stays in the database (channels.web.sessions).
"""

from __future__ import annotations

import html
import logging
import secrets
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from assistant.directory import User
from assistant.errors import AssistantError, BadRequest, NotFound, Unauthorized
from channels.auth import check_csrf, services_of, session_cookie_name, session_of, widget_session_id
from channels.web.oidc import SignInFailed
from channels.web.sessions import LOGIN_SECONDS

log = logging.getLogger(__name__)
router = APIRouter()
LOGIN_COOKIE = "aios_login"  # the state of this browser's sign-in under way


def safe_next(value: str | None) -> str:
    """A path on this site to return to after signing in; anything else (another host, "//x") is "/"."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value[:500]


def _page(status: int, title: str, message: str) -> HTMLResponse:
    body = (f"<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
            f"<title>{html.escape(title)}</title><main style='font-family:system-ui;max-width:36rem;margin:3rem auto'>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
            f"<p><a href='/auth/login'>Sign in again</a> · <a href='/'>Back to the assistant</a></p></main>")
    return HTMLResponse(body, status_code=status, headers={"cache-control": "no-store"})


def _sso(request: Request):
    services = services_of(request)
    if services.oidc is None:
        raise NotFound("single sign-on is not configured (AIOS_OIDC_ISSUER); use a token from `aios token`")
    return services


@router.get("/auth/config", include_in_schema=False)
async def config(request: Request) -> JSONResponse:
    services = services_of(request)
    sso = services.oidc is not None
    return JSONResponse({"sso": sso, "tokens": not sso or services.settings.core.mode == "dev"})


@router.get("/auth/login", include_in_schema=False)
async def login(request: Request, next: str | None = None) -> Response:
    services = _sso(request)
    assert services.oidc is not None and services.sessions is not None
    pending = services.sessions.begin_login(safe_next(next))
    url = await services.oidc.authorization_url(state=pending.state, nonce=pending.nonce, verifier=pending.verifier)
    response = RedirectResponse(url, status_code=302, headers={"cache-control": "no-store"})
    # The sign-in belongs to this browser: the callback must come back with this cookie, so nobody can
    # send someone else a callback link of their own sign-in (login CSRF).
    response.set_cookie(LOGIN_COOKIE, pending.state, httponly=True, secure=_secure(services.settings),
                        samesite="lax", path="/auth", max_age=int(LOGIN_SECONDS))
    return response


@router.get("/auth/callback", include_in_schema=False)
async def callback(request: Request) -> Response:
    services = _sso(request)
    assert services.oidc is not None and services.sessions is not None
    params = request.query_params
    state, code = params.get("state", ""), params.get("code", "")
    if not state or not secrets.compare_digest(request.cookies.get(LOGIN_COOKIE, "").encode(), state.encode()):
        log.info("sso.refused reason=not_this_browsers_sign_in")
        return _page(400, "This sign-in did not start in this browser",
                     "Please sign in again from the assistant's page.")
    pending = services.sessions.take_login(state)
    if pending is None:
        log.info("sso.refused reason=unknown_state")
        return _page(400, "This sign-in is not valid any more",
                     "It was already used, took too long, or did not start here. Please sign in again.")
    if params.get("error"):
        log.info("sso.refused reason=provider_error error=%s", params.get("error"))
        return _page(401, "The sign-in did not complete",
                     f"The identity provider said: {params.get('error_description') or params.get('error')}.")
    if not code:
        return _page(400, "The sign-in did not complete", "The identity provider sent no authorization code.")
    try:
        tokens = await services.oidc.exchange(code, verifier=pending.verifier)
        claims = await services.oidc.validate_id_token(tokens["id_token"], nonce=pending.nonce)
        claims = await services.oidc.with_userinfo(claims, tokens.get("access_token"),
                                                   wanted=services.settings.oidc.user_claim)
    except SignInFailed as exc:
        return _page(401, "The sign-in was refused", exc.message)
    user = person_of(services, claims)
    if user is None:
        log.info("sso.not_enrolled claim=%s", services.settings.oidc.user_claim)
        return _page(403, "You are not enrolled",
                     "You signed in at the company's identity provider, but the assistant has no one with "
                     "your account in its directory. Ask your administrator to add you.")
    session_id = services.sessions.open(user.id, id_token=tokens["id_token"])
    log.info("sso.signed_in user=%s", user.id)
    response = RedirectResponse(pending.next_path, status_code=302, headers={"cache-control": "no-store"})
    settings = services.settings
    response.delete_cookie(LOGIN_COOKIE, path="/auth", secure=_secure(settings), httponly=True, samesite="lax")
    response.set_cookie(session_cookie_name(settings), session_id, httponly=True, secure=_secure(settings),
                        samesite="lax", path="/", max_age=int(settings.oidc.max_seconds))
    return response


def person_of(services, claims: dict) -> User | None:
    """The directory's person for the configured claim of a validated ID token."""
    oidc = services.settings.oidc
    value = claims.get(oidc.user_claim)
    if not isinstance(value, str) or not value:
        return None
    if oidc.user_claim == "email" and claims.get("email_verified") is False:
        return None  # an address the provider has not verified names no one
    directory = services.directory
    if oidc.match == "email":
        return directory.by_email(value)
    if oidc.match == "id":
        return directory.find(value)
    return directory.by_channel_id("oidc", value)


@router.get("/auth/handoff", include_in_schema=False)
async def handoff(request: Request) -> Response:
    """The end of a sign-in in a popup opened by the embedded widget (whose frame on another site
    does not get the SameSite cookie): a session of its own for the widget, handed to the opener
    with postMessage, to this site's origin only (static/handoff.js), then the popup closes."""
    services = services_of(request)
    found = session_of(request)
    if found is None or services.sessions is None:
        return RedirectResponse("/auth/login?next=/auth/handoff", status_code=302)
    widget_session = services.sessions.open(found.user_id, id_token=found.id_token)
    body = ("<!doctype html><html lang=en><meta charset=utf-8><title>Signed in</title>"
            "<p>Signed in. You can close this window.</p>"
            f"<div id=handoff data-session='{html.escape(widget_session)}' hidden></div>"
            "<script src='/static/handoff.js'></script></html>")
    return HTMLResponse(body, headers={"cache-control": "no-store", "referrer-policy": "no-referrer"})


@router.get("/auth/session", include_in_schema=False)
async def session(request: Request) -> JSONResponse:
    services = services_of(request)
    found = session_of(request)
    if found is None:
        raise Unauthorized("not signed in")
    user = services.directory.find(found.user_id)
    if user is None:
        raise Unauthorized("not signed in")
    expires_at = found.created_at + services.settings.oidc.max_seconds
    return JSONResponse({"user": {"id": user.id, "name": user.name, "roles": sorted(user.roles)},
                         "csrf": found.csrf, "expires_at": expires_at}, headers={"cache-control": "no-store"})


@router.post("/auth/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    services = services_of(request)
    widget_session = widget_session_id(request)
    if widget_session is not None and services.sessions is not None:
        # The embedded widget signs out its own session; the provider's page stays out of the frame.
        if services.sessions.find(widget_session) is None:
            raise Unauthorized("not signed in")
        services.sessions.end(widget_session)
        return JSONResponse({"redirect": None})
    found = session_of(request)
    if found is None:
        raise Unauthorized("not signed in")
    check_csrf(found, request.headers.get("x-csrf-token") or (await _form_field(request, "csrf")))
    assert services.sessions is not None
    services.sessions.end(request.cookies[session_cookie_name(services.settings)])
    log.info("sso.signed_out user=%s", found.user_id)
    target = "/"
    if services.oidc is not None:
        back = services.settings.oidc.post_logout_redirect_uri or _own_url(services, "/")
        target = await services.oidc.end_session_url(id_token=found.id_token, post_logout_redirect_uri=back) or "/"
    response = JSONResponse({"redirect": target}) if _wants_json(request) else RedirectResponse(target, status_code=303)
    response.delete_cookie(session_cookie_name(services.settings), path="/", secure=_secure(services.settings),
                           httponly=True, samesite="lax")
    return response


async def _form_field(request: Request, name: str) -> str:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return ""
    try:
        form = await request.form()
    except AssistantError:
        raise
    except Exception as exc:  # a malformed form is the caller's fault: 400, not 500
        raise BadRequest("unreadable form body") from exc
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _secure(settings) -> bool:
    return settings.oidc.secure_cookies(settings.core.mode)


def _own_url(services, path: str) -> str:
    """`path` on the gateway as the provider knows it (the host of the callback URL)."""
    parts = urlsplit(services.settings.oidc.callback_url(services.settings.gateway.url))
    return f"{parts.scheme}://{parts.netloc}{path}"
