"""Single sign-on against a real OpenID provider (node-oidc-provider, started here): the gateway on
real HTTP, the provider's own login page filled in as a browser would."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.local_stack import make_settings, serve_gateway
from assistant.settings.oidc import OidcSettings
from channels.app import create_app
from channels.web.oidc import OidcClient, SignInFailed
from channels.web.sessions import Sessions
from tests.dbs import migrated
from tests.oidc import oidc_provider, sign_in_at_provider

SECRET = "test-client-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def provider_and_settings(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sso")
    settings = make_settings(tmp)
    settings.temporal.address = "127.0.0.1:1"
    base = settings.gateway.url
    clients = [
        {"client_id": "aios", "client_secret": SECRET, "redirect_uris": [base + "/auth/callback"],
         "post_logout_redirect_uris": [base + "/"]},
        {"client_id": "other-app", "client_secret": SECRET, "redirect_uris": ["http://127.0.0.1:1/cb"]},
    ]
    with oidc_provider(tmp, clients) as provider:
        settings.oidc = OidcSettings(issuer=provider.issuer, client_id="aios", client_secret=SECRET)
        yield provider, settings


@pytest.fixture(scope="module")
async def gateway(provider_and_settings):
    _, settings = provider_and_settings
    app = create_app(settings)
    async with serve_gateway(app, settings):
        yield app, settings


def _browser(settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=settings.gateway.url, timeout=30)


async def _callback_link(http: httpx.AsyncClient, settings, login: str, next_path: str = "/") -> str:
    """Start a sign-in in `http` and fill in the provider's page; the link it sends the browser back to."""
    start = await http.get("/auth/login", params={"next": next_path})
    assert start.status_code == 302, start.text
    return await sign_in_at_provider(start.headers["location"], login,
                                     redirect_uri=settings.gateway.url + "/auth/callback")


async def _signed_in(http: httpx.AsyncClient, settings, login: str, next_path: str = "/") -> httpx.Response:
    """Sign in through the provider's page; returns the gateway's answer to the callback."""
    return await http.get(await _callback_link(http, settings, login, next_path))


async def test_signing_in_opens_a_session_that_the_api_accepts_with_its_csrf_token(gateway):
    _, settings = gateway
    async with _browser(settings) as http:
        assert (await http.get("/auth/config")).json() == {"sso": True, "tokens": True}
        start = await http.get("/auth/login", params={"next": "/admin"})
        query = parse_qs(urlsplit(start.headers["location"]).query)
        assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
        assert query["state"][0] and query["nonce"][0] and query["client_id"] == ["aios"]
        back = await sign_in_at_provider(start.headers["location"], "alice",
                                         redirect_uri=settings.gateway.url + "/auth/callback")
        done = await http.get(back)
        assert done.status_code == 302 and done.headers["location"] == "/admin"
        cookies = [c.lower() for c in done.headers.get_list("set-cookie")]
        cookie = next(c for c in cookies if c.startswith("aios_session="))
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert any(c.startswith('aios_login=""') or "max-age=0" in c for c in cookies if "aios_login" in c)
        assert "secure" not in cookie  # dev mode on http://127.0.0.1; prod sets Secure and __Host-

        session = (await http.get("/auth/session")).json()
        assert session["user"]["id"] == "alice" and len(session["csrf"]) >= 32
        assert (await http.get("/api/me")).json()["id"] == "alice"
        # A state change with the cookie alone is refused before its body is read; with the token it passes.
        refused = await http.delete("/api/delegation")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf"
        wrong = await http.post("/api/chat", json={"message": "hi"}, headers={"X-CSRF-Token": "x" * 43})
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "csrf"
        allowed = await http.delete("/api/delegation", headers={"X-CSRF-Token": session["csrf"]})
        assert allowed.status_code == 200 and allowed.json() == {"ended": False}


async def test_a_callback_with_a_state_this_gateway_never_issued_is_refused(gateway):
    _, settings = gateway
    async with _browser(settings) as http:
        back = await _callback_link(http, settings, "alice")
        forged = back.replace("state=", "state=forged")
        answer = await http.get(forged)
        assert answer.status_code == 400 and "aios_session" not in answer.headers.get("set-cookie", "")
        assert (await http.get("/auth/session")).status_code == 401
        assert (await http.get("/auth/callback", params={"code": "x"})).status_code == 400  # no state at all


async def test_a_replayed_code_opens_nothing(gateway):
    _, settings = gateway
    async with _browser(settings) as http:
        back = await _callback_link(http, settings, "alice")
        assert (await http.get(back)).status_code == 302
        again = await http.get(back)  # the same callback URL in the same browser: its sign-in was used up
        assert again.status_code == 400 and "aios_session" not in again.headers.get("set-cookie", "")
    async with _browser(settings) as attacker:
        # The stolen code under a sign-in of the attacker's own: the provider refuses the code.
        fresh = await attacker.get("/auth/login")
        state = parse_qs(urlsplit(fresh.headers["location"]).query)["state"][0]
        code = parse_qs(urlsplit(back).query)["code"][0]
        replay = await attacker.get("/auth/callback", params={"code": code, "state": state})
        assert replay.status_code == 401 and "aios_session" not in replay.headers.get("set-cookie", "")
        assert "refused" in replay.text


async def test_a_callback_link_of_someone_elses_sign_in_opens_nothing(gateway):
    """Login CSRF: mallory starts a sign-in, stops at the callback link and sends it to alice; in
    alice's browser (without mallory's sign-in cookie) it is refused, and the sign-in stays unused."""
    _, settings = gateway
    async with _browser(settings) as mallory:
        start = await mallory.get("/auth/login")
        assert "aios_login=" in start.headers["set-cookie"] and "path=/auth" in start.headers["set-cookie"].lower()
        link = await sign_in_at_provider(start.headers["location"], "bob",
                                         redirect_uri=settings.gateway.url + "/auth/callback")
    async with _browser(settings) as alice:
        refused = await alice.get(link)
        assert refused.status_code == 400 and "did not start in this browser" in refused.text
        assert (await alice.get("/auth/session")).status_code == 401


async def _id_token(provider, settings, client_id: str, redirect_uri: str) -> tuple[OidcClient, str, str]:
    """A real ID token of the provider for `client_id` (and the nonce it was asked with)."""
    oidc = OidcClient(OidcSettings(issuer=provider.issuer, client_id=client_id, client_secret=SECRET),
                      redirect_uri=redirect_uri)
    url = await oidc.authorization_url(state="s" * 43, nonce="n" * 43, verifier="v" * 64)
    back = await sign_in_at_provider(url, "alice", redirect_uri=redirect_uri)
    tokens = await oidc.exchange(parse_qs(urlsplit(back).query)["code"][0], verifier="v" * 64)
    return oidc, tokens["id_token"], "n" * 43


async def test_an_expired_id_token_or_one_for_another_audience_or_nonce_is_refused(provider_and_settings):
    provider, settings = provider_and_settings
    ours, token, nonce = await _id_token(provider, settings, "aios", settings.gateway.url + "/auth/callback")
    other, foreign, foreign_nonce = await _id_token(provider, settings, "other-app", "http://127.0.0.1:1/cb")
    try:
        claims = await ours.validate_id_token(token, nonce=nonce)
        assert claims["sub"] == "alice" and claims["aud"] == "aios"
        late = claims["exp"] + ours.settings.clock_skew_seconds + 1
        with pytest.raises(SignInFailed, match="exp"):
            await ours.validate_id_token(token, nonce=nonce, now=late)
        # Within the allowed clock skew it still counts.
        await ours.validate_id_token(token, nonce=nonce, now=claims["exp"] + ours.settings.clock_skew_seconds - 5)
        with pytest.raises(SignInFailed, match="aud"):
            await ours.validate_id_token(foreign, nonce=foreign_nonce)
        with pytest.raises(SignInFailed, match="nonce"):
            await ours.validate_id_token(token, nonce="another sign-in's nonce")
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        with pytest.raises(SignInFailed):
            await ours.validate_id_token(tampered, nonce=nonce)
    finally:
        await ours.close()
        await other.close()


async def test_a_person_the_directory_does_not_have_is_told_they_are_not_enrolled(gateway):
    _, settings = gateway
    async with _browser(settings) as http:
        answer = await _signed_in(http, settings, "mallory")
        assert answer.status_code == 403 and "not enrolled" in answer.text
        assert "set-cookie" not in answer.headers
        assert (await http.get("/api/me")).status_code == 401


async def test_signing_out_ends_the_session_here_and_at_the_provider(gateway):
    _, settings = gateway
    async with _browser(settings) as http:
        assert (await _signed_in(http, settings, "bob")).status_code == 302
        csrf = (await http.get("/auth/session")).json()["csrf"]
        cookie = http.cookies["aios_session"]
        assert (await http.post("/auth/logout")).status_code == 403  # no CSRF token: refused
        out = await http.post("/auth/logout", headers={"X-CSRF-Token": csrf, "Accept": "application/json"})
        assert out.status_code == 200
        target = urlsplit(out.json()["redirect"])
        params = parse_qs(target.query)
        assert target.path == "/session/end" and params["id_token_hint"][0].count(".") == 2
        assert params["post_logout_redirect_uri"] == [settings.gateway.url + "/"]
        assert "aios_session" not in http.cookies
        # The old cookie, kept by someone, opens nothing any more.
    async with httpx.AsyncClient(base_url=settings.gateway.url, cookies={"aios_session": cookie}) as kept:
        assert (await kept.get("/api/me")).status_code == 401


async def test_an_idle_session_expires(gateway):
    app, settings = gateway
    sessions = app.state.services.sessions
    async with _browser(settings) as http:
        assert (await _signed_in(http, settings, "erin")).status_code == 302
        assert (await http.get("/api/me")).status_code == 200
        idle = sessions.idle_seconds
        sessions.idle_seconds = 0.5
        try:
            await asyncio.sleep(1.0)
            assert (await http.get("/api/me")).status_code == 401
        finally:
            sessions.idle_seconds = idle


def test_sessions_end_after_their_idle_time_and_their_absolute_time(tmp_path):
    engine = migrated(f"sqlite:///{tmp_path / 's.db'}", "core")
    sessions = Sessions(engine, idle_seconds=60, max_seconds=3600)
    t0 = time.time()
    sid = sessions.open("alice", now=t0)
    assert sessions.find(sid, now=t0 + 59).user_id == "alice"
    for minute in range(1, 60):  # used every minute: idle never reached, the absolute limit is
        assert sessions.find(sid, now=t0 + 59 + minute * 59) is not None
    assert sessions.find(sid, now=t0 + 3601) is None
    assert sessions.find(sid, now=t0 + 1) is None  # ended for good
    other = sessions.open("alice", now=t0)
    assert sessions.find(other, now=t0 + 61) is None  # idle
    assert sessions.find("not-a-session") is None


def test_a_sign_in_under_way_is_taken_once_and_goes_stale(tmp_path):
    engine = migrated(f"sqlite:///{tmp_path / 's.db'}", "core")
    sessions = Sessions(engine, idle_seconds=60, max_seconds=3600)
    t0 = time.time()
    pending = sessions.begin_login("/admin", now=t0)
    assert sessions.take_login(pending.state, now=t0 + 5) == pending
    assert sessions.take_login(pending.state, now=t0 + 6) is None
    old = sessions.begin_login("/", now=t0)
    assert sessions.take_login(old.state, now=t0 + 601) is None


async def test_without_a_provider_sign_in_is_off_and_tokens_work(tmp_path):
    settings = make_settings(tmp_path)
    settings.temporal.address = "127.0.0.1:1"
    async with serve_gateway(create_app(settings), settings):
        async with _browser(settings) as http:
            assert (await http.get("/auth/config")).json() == {"sso": False, "tokens": True}
            assert (await http.get("/auth/login")).status_code == 404
            http.cookies.set("aios_session", "whatever")
            assert (await http.get("/api/me")).status_code == 401


@pytest.mark.parametrize(("asked", "kept"), [("/admin", "/admin"), ("//evil.example/x", "/"),
                                              ("https://evil.example/", "/"), ("/\\evil", "/"), (None, "/")])
def test_the_page_to_return_to_is_always_on_this_site(asked, kept):
    from channels.web.sso_routes import safe_next

    assert safe_next(asked) == kept


@pytest.mark.parametrize(("mode", "oidc", "refused"), [
    ("dev", {"issuer": "http://127.0.0.1:9"}, "CLIENT_ID"),
    ("dev", {"issuer": "http://127.0.0.1:9", "client_id": "a", "scopes": "email"}, "openid"),
    ("prod", {"issuer": "http://idp.example.com", "client_id": "a"}, "https"),
    ("prod", {"issuer": "https://idp.example.com", "client_id": "a"}, "REDIRECT_URI"),
    ("prod", {"issuer": "https://idp.example.com", "client_id": "a",
              "redirect_uri": "https://chat.example.com/auth/callback", "cookie_secure": False}, "COOKIE_SECURE"),
])
def test_an_unsafe_sign_in_setup_is_refused_at_start(tmp_path, mode, oidc, refused):
    from assistant.errors import ConfigurationError
    from assistant.settings import CoreSettings

    settings = make_settings(tmp_path)
    settings.core = CoreSettings(var_dir=tmp_path, mode=mode, secret_key="p" * 48)
    settings.oidc = OidcSettings(**oidc)
    with pytest.raises(ConfigurationError, match=refused):
        create_app(settings)


def test_a_prod_sign_in_setup_on_https_is_accepted(tmp_path):
    from assistant.settings import CoreSettings

    settings = make_settings(tmp_path)
    settings.core = CoreSettings(var_dir=tmp_path, mode="prod", secret_key="p" * 48)
    settings.oidc = OidcSettings(issuer="https://login.microsoftonline.com/tenant/v2.0", client_id="a",
                                 redirect_uri="https://chat.example.com/auth/callback")
    assert create_app(settings) is not None
    from channels.auth import session_cookie_name

    assert session_cookie_name(settings) == "__Host-aios_session"  # Secure, this host only, path /


async def test_doctor_reads_the_providers_discovery_and_keys_or_says_why_not(provider_and_settings, tmp_path):
    from app.doctor import _sign_in

    provider, settings = provider_and_settings
    found = await _sign_in(settings)
    assert found.status == "ok" and provider.issuer in found.detail and "signing key" in found.detail, found
    wrong = settings.model_copy(deep=True)
    wrong.oidc = OidcSettings(issuer="http://127.0.0.1:1", client_id="aios")
    refused = await _sign_in(wrong)
    assert refused.status == "fail" and "did not answer" in refused.detail, refused
    off = make_settings(tmp_path)
    assert (await _sign_in(off)).status == "ok"
