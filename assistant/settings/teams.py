"""Settings of the Microsoft Teams bot (env prefix `TEAMS_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigurationError

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_JWKS = "https://login.botframework.com/v1/.well-known/keys"


class TeamsSettings(BaseSettings):
    """The Azure Bot registration of the assistant and how inbound tokens are checked."""

    model_config = SettingsConfigDict(env_prefix="TEAMS_", env_file=".env", extra="ignore")

    enabled: bool | None = Field(None, description="serve POST /api/messages; default: on when TEAMS_APP_ID is set")
    app_id: str | None = Field(None, description="Microsoft App ID of the Azure Bot (the audience of inbound tokens)")
    app_password: SecretStr | None = Field(None, description="client secret of that app registration (outbound calls)")
    tenant_id: str | None = Field(
        None, description="Entra tenant of a single-tenant bot; also used to start chats with people proactively")
    issuers: str = Field(BOT_FRAMEWORK_ISSUER, description="comma-separated accepted token issuers")
    jwks_url: str = Field(BOT_FRAMEWORK_JWKS, description="signing keys of the Bot Connector (JWKS)")
    leeway_seconds: int = Field(300, ge=0, le=600, description="clock skew allowed on exp/nbf")
    jwks_refresh_seconds: int = Field(
        86400, ge=60, description="signing keys are re-read after this long, or on an unknown key id")
    service_url: str | None = Field(
        None, description="Bot Connector URL for first contact (e.g. https://smba.trafficmanager.net/emea/); "
                          "learned from inbound activities otherwise")
    http_timeout_seconds: float = Field(10.0, gt=0, le=60, description="per Bot Connector or JWKS call")
    progress_after_seconds: float = Field(1.5, ge=0, le=30, description="show 'typing' when a turn takes longer")
    dedup_ttl_seconds: int = Field(3600, ge=60, description="how long an inbound activity id is remembered")
    identity_cache_seconds: int = Field(600, ge=0, description="how long a Teams user -> directory mapping is cached")

    @property
    def active(self) -> bool:
        return self.app_id is not None if self.enabled is None else self.enabled

    @property
    def issuer_list(self) -> list[str]:
        return [i.strip() for i in self.issuers.split(",") if i.strip()]

    @property
    def anonymous(self) -> bool:
        """Dev mode without an app id: the Bot Framework Emulator, no tokens either way."""
        return self.app_id is None

    def check(self, mode: str) -> None:
        """Outside dev mode, Teams needs an app id (the audience every inbound token must carry)."""
        if self.active and self.app_id is None and mode != "dev":
            raise ConfigurationError("Teams is enabled but TEAMS_APP_ID is not set: inbound tokens cannot be "
                                     "checked; set TEAMS_APP_ID (and TEAMS_APP_PASSWORD) or TEAMS_ENABLED=false")
        if self.active and self.app_id is not None and self.app_password is None and mode != "dev":
            raise ConfigurationError("TEAMS_APP_PASSWORD is required outside dev mode (replies need it)")
