"""Login tokens can be revoked, one by one or all of a person's, and every request checks it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import httpx
import pytest

from app.local_stack import make_settings, serve_gateway
from assistant.directory import Directory
from assistant.errors import Unauthorized
from assistant.revocations import Revocations
from assistant.schema import open_database
from assistant.settings import PROJECT_DIR
from assistant.tokens import TokenService
from channels.app import create_app
from channels.web.sessions import Sessions
from tests.dbs import migrated


@pytest.fixture
def tokens(database_url) -> TokenService:
    revocations = Revocations(migrated(database_url))
    return TokenService("s" * 40, Directory.load(PROJECT_DIR / "data" / "directory.yml"), ttl_seconds=600,
                        revocations=revocations)


def test_a_revoked_token_stops_working_and_others_do_not(tokens):
    one, two = tokens.mint("alice"), tokens.mint("alice")
    claims = tokens.inspect(one)
    tokens._revocations.revoke_token(claims.token_id, claims.user_id, claims.expires_at)
    with pytest.raises(Unauthorized) as err:
        tokens.verify(one)
    assert err.value.code == "token_revoked"
    assert tokens.verify(two).user_id == "alice"


def test_revoking_a_person_ends_every_token_issued_until_then(tokens):
    old = tokens.mint("bob", now=time.time() - 60)
    carol = tokens.mint("carol")
    tokens._revocations.revoke_user("bob")
    with pytest.raises(Unauthorized):
        tokens.verify(old)
    assert tokens.verify(carol).user_id == "carol"
    later = tokens.mint("bob", now=time.time() + 2)  # a new login after the cut-off works
    assert tokens.verify(later).user_id == "bob"


def create_app_sessions(settings) -> Sessions:
    """The sessions store of `settings`' database, as the gateway's sign-in writes it."""
    return Sessions(open_database(settings), idle_seconds=3600, max_seconds=3600)


async def test_aios_token_revoke_reaches_a_running_gateway_at_once(tmp_path):
    settings = make_settings(tmp_path)
    settings.temporal.address = "127.0.0.1:1"
    env = {**os.environ, "AIOS_VAR_DIR": str(tmp_path), "AIOS_SECRET_KEY": settings.core.secret_key.get_secret_value()}

    def aios(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "app.cli", "token", *args], env=env, cwd=PROJECT_DIR,
                              capture_output=True, text=True, timeout=120)

    async with serve_gateway(create_app(settings), settings):
        async with httpx.AsyncClient(base_url=settings.gateway.url, timeout=10) as http:
            token = (await asyncio.to_thread(aios, "erin")).stdout.strip()
            other = (await asyncio.to_thread(aios, "erin")).stdout.strip()
            me = lambda t: http.get("/api/me", headers={"Authorization": f"Bearer {t}"})  # noqa: E731
            assert (await me(token)).status_code == 200
            done = await asyncio.to_thread(aios, "revoke", token)
            assert done.returncode == 0 and "revoked token" in done.stdout, done.stderr
            r = await me(token)
            assert r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"
            assert (await me(other)).status_code == 200
            # A web session from single sign-on ends with the person's tokens.
            session = create_app_sessions(settings).open("erin")
            http.cookies.set("aios_session", session)
            assert (await http.get("/api/me")).status_code == 200
            revoked = await asyncio.to_thread(aios, "revoke", "--user", "erin")
            assert revoked.returncode == 0 and "ended 1 web session" in revoked.stdout, revoked.stdout
            assert (await me(other)).status_code == 401
            assert (await http.get("/api/me")).status_code == 401
            assert (await asyncio.to_thread(aios, "revoke")).returncode == 2  # nothing named: refused
