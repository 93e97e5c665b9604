"""Settings of the weekly digest (workflows.digest): whether it runs, and on which local weekday and time."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class DigestSettings(BaseSettings):
    """The weekly digest each person gets in their preferred channel, at their own local time."""

    model_config = SettingsConfigDict(env_prefix="AIOS_DIGEST_", env_file=".env", extra="ignore")

    enabled: bool = Field(
        True, description="send the weekly digest; false stops every person's digest workflow at its next wake-up "
                          "(the worker's start or `aios digest sync` makes that at once)")
    weekday: Weekday = Field("monday", description="the local weekday the digest is sent on")
    local_time: str = Field(
        "09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="HH:MM on the person's own clock (their directory timezone, daylight saving included)")

    @property
    def weekday_number(self) -> int:
        """Monday is 0, as `date.weekday()` counts."""
        return WEEKDAYS.index(self.weekday)

    @property
    def at(self) -> time:
        hours, minutes = self.local_time.split(":")
        return time(int(hours), int(minutes))
