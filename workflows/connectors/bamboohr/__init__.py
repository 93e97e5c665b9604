"""BambooHR: approved time off recorded as time-off requests."""

from workflows.connectors.bamboohr.client import BambooHR

__all__ = ["BambooHR"]
