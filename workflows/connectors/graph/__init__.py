"""Microsoft Graph: out-of-office calendar events."""

from workflows.connectors.graph.client import GraphCalendar

__all__ = ["GraphCalendar"]
