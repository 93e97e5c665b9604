"""Embedded defaults: the company systems as tables in the project's SQL database."""

from workflows.connectors.embedded.directory import EmbeddedDirectory
from workflows.connectors.embedded.schema import seed_groups
from workflows.connectors.embedded.systems import (
    EmbeddedCalendar,
    EmbeddedExpenses,
    EmbeddedHR,
    EmbeddedIdentity,
    EmbeddedITSM,
)

__all__ = [
    "EmbeddedCalendar",
    "EmbeddedDirectory",
    "EmbeddedExpenses",
    "EmbeddedHR",
    "EmbeddedITSM",
    "EmbeddedIdentity",
    "seed_groups",
]
