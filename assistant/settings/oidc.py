"""Settings of single sign-on: the company's OpenID Connect provider, and the web sessions it opens."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigurationError


class OidcSettings(BaseSettings):
    """Sign-in with the company's identity provider (Entra ID, Okta, Google Workspace, Keycloak...).

    Off while `issuer` is empty: the web page then takes a token from `aios token`, as in dev mode.
    """

    model_config = SettingsConfigDict(env_prefix="AIOS_OIDC_", env_file=".env", extra="ignore")

    issuer: str = Field("", description="the provider's issuer URL (its discovery document is "
                                        "<issuer>/.well-known/openid-configuration); empty: sign-in is off")
    client_id: str = Field("", description="this application's client id at the provider")
    client_secret: SecretStr | None = Field(None, description="the client secret (a confidential client)")
    redirect_uri: str = Field(
        "", description="where the provider sends people back, registered at the provider: "
                        "https://<gateway>/auth/callback; default the gateway's own URL")
    post_logout_redirect_uri: str = Field(
        "", description="where the provider sends people after signing out (registered at the provider); "
                        "default the gateway's /")
    scopes: str = Field("openid email profile", description="scopes asked for (openid is required)")
    user_claim: str = Field("email", description="ID token claim that names the person (email, oid, sub, "
                                                 "preferred_username...)")
    match: Literal["email", "id", "oidc"] = Field(
        "email", description="what the claim is compared with in the directory: the person's email, their "
                             "directory id, or their `channels.oidc` entry (e.g. an Entra object id)")
    session_idle_minutes: float = Field(60.0, gt=0, le=7 * 24 * 60,
                                        description="a web session ends after this long without a request")
    session_max_hours: float = Field(12.0, gt=0, le=30 * 24, description="a web session ends this long after sign-in")
    cookie_secure: bool | None = Field(None, description="Secure session cookie; default: yes in prod mode")
    clock_skew_seconds: int = Field(60, ge=0, le=600, description="allowed clock difference with the provider")
    ca_file: str = Field("", description="CA bundle (PEM) for the provider's TLS certificate; default the system's")
    timeout_seconds: float = Field(10.0, gt=0, description="per call to the provider")

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)

    @property
    def idle_seconds(self) -> float:
        return self.session_idle_minutes * 60

    @property
    def max_seconds(self) -> float:
        return self.session_max_hours * 3600

    def secure_cookies(self, mode: str) -> bool:
        """Whether the sign-in cookies are Secure: as set, else in prod mode."""
        return self.cookie_secure if self.cookie_secure is not None else mode == "prod"

    def callback_url(self, gateway_url: str) -> str:
        """Where the provider sends people back: as set, else the gateway's own /auth/callback."""
        return self.redirect_uri or gateway_url + "/auth/callback"

    def check(self, mode: str) -> None:
        """Refuse a sign-in set-up that would not be safe: no client id; in prod, a provider or a
        redirect not on HTTPS (the code and the session cookie would cross the network in clear)."""
        if not self.enabled:
            return
        if not self.client_id:
            raise ConfigurationError("AIOS_OIDC_ISSUER is set but AIOS_OIDC_CLIENT_ID is not")
        if "openid" not in self.scopes.split():
            raise ConfigurationError("AIOS_OIDC_SCOPES must include openid")
        if mode != "prod":
            return
        if urlsplit(self.issuer).scheme != "https":
            raise ConfigurationError("AIOS_OIDC_ISSUER must be an https:// URL in prod mode")
        if urlsplit(self.redirect_uri).scheme != "https":
            raise ConfigurationError("AIOS_OIDC_REDIRECT_URI must be set to the gateway's public "
                                     "https://.../auth/callback in prod mode")
        if self.cookie_secure is False:
            raise ConfigurationError("AIOS_OIDC_COOKIE_SECURE=false is for dev mode only")
