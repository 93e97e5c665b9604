"""No secret is shipped: each install makes its own, and dev mode cannot face the internet by accident."""

from __future__ import annotations

import stat
import time

import httpx
import jwt
import pytest

from app.local_stack import make_settings, serve_gateway
from assistant.errors import ConfigurationError
from assistant.settings import PUBLISHED_SECRETS, CoreSettings, Settings
from assistant.tokens import AUDIENCE, ISSUER
from channels.app import create_app

# What the code shipped before: anyone could sign an admin's token with it.
OLD_DEV_SECRET = "aios-dev-secret-do-not-use-in-production"


def test_a_fresh_install_generates_its_own_secret_into_the_var_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("AIOS_SECRET_KEY", raising=False)
    first = CoreSettings(var_dir=tmp_path / "a")
    again = CoreSettings(var_dir=tmp_path / "a")
    other = CoreSettings(var_dir=tmp_path / "b")
    key_file = tmp_path / "a" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    secret = first.secret_key.get_secret_value()
    assert len(secret) >= 64 and secret == key_file.read_text().strip()
    assert again.secret_key.get_secret_value() == secret  # every service of one install agrees
    assert other.secret_key.get_secret_value() != secret
    assert OLD_DEV_SECRET in PUBLISHED_SECRETS


def test_a_secret_file_others_can_read_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("AIOS_SECRET_KEY", raising=False)
    (tmp_path / "secret.key").write_text("k" * 64)
    (tmp_path / "secret.key").chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        CoreSettings(var_dir=tmp_path)


@pytest.mark.parametrize("mode", ["dev", "prod"])
def test_the_published_secret_is_refused_in_every_mode(mode):
    with pytest.raises(ConfigurationError, match="published"):
        CoreSettings(mode=mode, secret_key=OLD_DEV_SECRET).check_secure()


async def test_a_token_signed_with_the_old_published_secret_is_refused(tmp_path, monkeypatch):
    """The review's reproduction: an HS256 JWT for erin signed with the shipped secret got 200."""
    monkeypatch.delenv("AIOS_SECRET_KEY", raising=False)
    settings = make_settings(tmp_path)
    settings.core = CoreSettings(var_dir=tmp_path, mode="dev")  # no secret configured: the default
    settings.temporal.address = "127.0.0.1:1"
    now = int(time.time())
    forged = jwt.encode({"sub": "erin", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600},
                        OLD_DEV_SECRET, algorithm="HS256")
    async with serve_gateway(create_app(settings), settings):
        async with httpx.AsyncClient(base_url=settings.gateway.url, timeout=10) as http:
            for path in ("/api/me", "/api/knowledge/documents"):
                r = await http.get(path, headers={"Authorization": f"Bearer {forged}"})
                assert r.status_code == 401, (path, r.text)


def test_internal_service_tokens_come_from_the_install_secret(tmp_path, monkeypatch):
    from assistant.settings.knowledge import service_token

    monkeypatch.delenv("AIOS_SECRET_KEY", raising=False)
    one = Settings(core=CoreSettings(var_dir=tmp_path / "one"))
    two = Settings(core=CoreSettings(var_dir=tmp_path / "two"))
    assert one.rasa_auth_token() != two.rasa_auth_token()
    assert service_token(one.core.secret_key.get_secret_value()) != \
        service_token(two.core.secret_key.get_secret_value())


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::"])
def test_dev_mode_refuses_to_listen_beyond_loopback(tmp_path, host):
    settings = make_settings(tmp_path)
    settings.gateway.host = host
    with pytest.raises(ConfigurationError, match="dev mode"):
        settings.check_exposure()
    settings.core.allow_exposed_dev = True  # a developer's tunnel, said out loud
    settings.check_exposure()
    settings.core.allow_exposed_dev = False
    settings.core.mode = "prod"
    settings.check_exposure()


def test_dev_mode_refuses_slack_and_teams_unless_allowed(tmp_path):
    from assistant.settings.slack import SlackSettings
    from assistant.settings.teams import TeamsSettings

    settings = make_settings(tmp_path)
    settings.check_exposure()
    settings.slack = SlackSettings(bot_token="xoxb-1", signing_secret="s" * 32)
    with pytest.raises(ConfigurationError, match="Slack"):
        settings.check_exposure()
    settings.slack = SlackSettings()
    settings.teams = TeamsSettings(app_id="00000000-0000-4000-8000-000000000001", app_password="p")
    with pytest.raises(ConfigurationError, match="Teams"):
        settings.check_exposure()
    settings.core.allow_exposed_dev = True
    settings.check_exposure()


@pytest.mark.parametrize("loopback", ["127.0.0.1", "localhost", "::1", "127.0.0.5"])
def test_loopback_is_fine_in_dev_mode(tmp_path, loopback):
    settings = make_settings(tmp_path)
    settings.gateway.host = loopback
    settings.check_exposure()
