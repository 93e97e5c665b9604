"""Connectors to the company's systems: one small contract per capability, chosen by settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from assistant.catalog import SystemCatalog
from assistant.directory import Directory
from assistant.settings import Settings
from workflows.connectors.base import (
    CalendarConnector,
    DirectoryConnector,
    ExpenseConnector,
    HRConnector,
    IdentityConnector,
    TicketConnector,
)
from workflows.connectors.errors import ConnectorError, ConnectorPermanentError

__all__ = [
    "CalendarConnector",
    "ConnectorError",
    "ConnectorPermanentError",
    "Connectors",
    "DirectoryConnector",
    "ExpenseConnector",
    "HRConnector",
    "IdentityConnector",
    "TicketConnector",
    "build_connectors",
    "catalog_groups",
]


@dataclass
class Connectors:
    directory: DirectoryConnector
    hr: HRConnector
    calendar: CalendarConnector
    identity: IdentityConnector
    itsm: TicketConnector
    expenses: ExpenseConnector

    async def aclose(self) -> None:
        for connector in (self.hr, self.calendar, self.identity, self.itsm, self.expenses):
            close = getattr(connector, "aclose", None)
            if close is not None:
                await close()


def catalog_groups(catalog: SystemCatalog) -> list[str]:
    return sorted({s.group_for(level) for s in catalog.systems for level in s.levels})


def build_connectors(settings: Settings, engine: Engine, directory: Directory, catalog: SystemCatalog) -> Connectors:
    """The connector of each capability named in settings (embedded SQL unless a vendor is chosen)."""
    from workflows.connectors import embedded

    w = settings.workflows
    timeout = w.connector_timeout_seconds
    embedded.seed_groups(engine, groups=catalog_groups(catalog))
    hr: HRConnector = embedded.EmbeddedHR(engine)
    calendar: CalendarConnector = embedded.EmbeddedCalendar(engine)
    identity: IdentityConnector = embedded.EmbeddedIdentity(engine)
    itsm: TicketConnector = embedded.EmbeddedITSM(engine)
    if w.hr == "bamboohr":
        from workflows.connectors.bamboohr import BambooHR

        hr = BambooHR(settings.bamboohr, timeout=timeout)
    if w.calendar == "graph":
        from workflows.connectors.graph import GraphCalendar

        calendar = GraphCalendar(settings.graph, timeout=timeout)
    if w.identity == "okta":
        from workflows.connectors.okta import OktaIdentity

        identity = OktaIdentity(settings.okta, timeout=timeout)
    if w.itsm == "jira":
        from workflows.connectors.jira import JiraServiceManagement

        itsm = JiraServiceManagement(settings.jira, timeout=timeout)
    return Connectors(
        directory=embedded.EmbeddedDirectory(directory),
        hr=hr,
        calendar=calendar,
        identity=identity,
        itsm=itsm,
        expenses=embedded.EmbeddedExpenses(engine),
    )
