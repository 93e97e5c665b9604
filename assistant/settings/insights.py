"""Settings of the admin insights page (env prefix `AIOS_INSIGHTS_`): the time saved per request, the
company's day boundaries, what counts as one conversation."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What a request done through the assistant saves its requester and approvers, against the way it is
# done without it (finding the form or the system, filling it in, chasing the approver by mail):
# an estimate to be replaced by each company's own figures.
DEFAULT_MINUTES_SAVED = {"time_off": 10.0, "access": 20.0, "expense": 15.0, "it_ticket": 10.0}


class InsightsSettings(BaseSettings):
    """How the insights page counts (channels/insights.py)."""

    model_config = SettingsConfigDict(env_prefix="AIOS_INSIGHTS_", env_file=".env", extra="ignore")

    minutes_saved: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_MINUTES_SAVED),
        description="estimated minutes one completed request saves, per request kind, as JSON "
                    '(e.g. {"time_off": 10, "access": 20, "expense": 15, "it_ticket": 10}); a kind not '
                    "named saves nothing")
    minutes_per_answer: float = Field(
        3.0, ge=0, le=600,
        description="estimated minutes one answered knowledge question saves (searching the documents or "
                    "asking a colleague); 0 leaves answers out of the hours saved")
    timezone: str = Field("UTC", description="IANA time zone whose midnight starts the page's days, "
                                             "e.g. Europe/Paris")
    conversation_gap_minutes: float = Field(
        30.0, gt=0, le=24 * 60,
        description="a person's turns on one channel with less than this between them are one conversation")
    max_days: int = Field(366, ge=1, le=3660, description="longest period the page may ask for")

    @field_validator("minutes_saved")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        if any(m < 0 or m > 24 * 60 for m in value.values()):
            raise ValueError("minutes saved per kind must be between 0 and 1440")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
