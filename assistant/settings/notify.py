"""Settings of notification delivery: retries, fallback, fairness and how long the outbox keeps rows."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    """How the gateway's dispatcher retries, falls back, shares its rounds and prunes the outbox."""

    model_config = SettingsConfigDict(env_prefix="AIOS_NOTIFY_", env_file=".env", extra="ignore")

    retry_base_seconds: float = Field(
        1.0, gt=0, le=3600, description="wait after a channel's first failure on a notification; doubles per failure"
    )
    retry_cap_seconds: float = Field(
        300.0, gt=0, le=86400, description="longest wait between two attempts of one notification"
    )
    attempts_per_channel: int = Field(
        5, ge=1, le=100,
        description="failed attempts on one channel before falling back to the person's next channel "
                    "(the last channel, or any card update, then becomes a dead letter)",
    )
    round_size: int = Field(200, ge=1, le=10000, description="most notifications handled per dispatch round")
    per_recipient_per_round: int = Field(
        5, ge=1, le=1000, description="most notifications of one person per round, so no backlog starves others"
    )
    lease_seconds: float = Field(
        120.0, ge=5, le=3600,
        description="how long a gateway replica holds the notifications it is delivering; a replica that "
                    "dies leaves them to the others after this",
    )
    retention_days: float = Field(
        30.0, gt=0, description="delivered notifications (and the web inbox history) are deleted after this"
    )
