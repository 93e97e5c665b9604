"""Settings of the Slack app (env prefix `SLACK_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigurationError


class SlackSettings(BaseSettings):
    """A Slack workspace: HTTP events (signing secret) or Socket Mode (app-level token)."""

    model_config = SettingsConfigDict(env_prefix="SLACK_", env_file=".env", extra="ignore")

    bot_token: SecretStr | None = Field(None, description="Bot User OAuth Token (xoxb-...) of the installed app")
    signing_secret: SecretStr | None = Field(
        None, description="Basic Information > Signing Secret; every HTTP request from Slack is checked with it")
    socket_mode: bool = Field(False, description="receive events over Socket Mode instead of POST /slack/events")
    app_token: SecretStr | None = Field(
        None, description="App-Level Token (xapp-..., scope connections:write); needed for Socket Mode")
    api_url: str = Field("https://slack.com/api/", description="Slack Web API base URL (tests point it at a fake)")
    http_timeout_seconds: float = Field(10.0, gt=0, le=60, description="per Slack Web API call")
    progress_after_seconds: float = Field(
        1.5, ge=0, le=30, description="post a placeholder (updated with the answer) when a turn takes longer")
    dedup_ttl_seconds: int = Field(
        3600, ge=60, description="how long an Events API event id is remembered (Slack retries within ~5 min)")
    identity_cache_seconds: int = Field(600, ge=0, description="how long a Slack user -> directory mapping is cached")
    max_file_bytes: int = Field(20 * 1024 * 1024, ge=1024, description="largest file an admin may add by sharing")
    command: str = Field("/aios", pattern=r"^/[a-z0-9_\-]{1,31}$", description="the slash command of the app")

    @property
    def enabled(self) -> bool:
        if self.socket_mode:
            return self.bot_token is not None and self.app_token is not None
        return self.bot_token is not None and self.signing_secret is not None

    def check(self) -> None:
        """Refuse half a configuration (a token without a way to receive events, or the reverse)."""
        if self.socket_mode and (self.bot_token is None or self.app_token is None):
            raise ConfigurationError("SLACK_SOCKET_MODE=true needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN")
        if not self.socket_mode and (self.bot_token is None) != (self.signing_secret is None):
            raise ConfigurationError("Slack over HTTP needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
                                     "(or neither, to leave Slack off)")
