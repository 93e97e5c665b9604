"""Who approves: approver specs of a policy resolved against the directory, catalog and delegations."""

from __future__ import annotations

from datetime import datetime

from assistant.catalog import SystemCatalog
from workflows.connectors.base import DirectoryConnector
from workflows.delegations import Delegations
from workflows.models import AccessDetails, ApproverRef, RequestDetails

ROLE_LABELS = {"finance_approver": "finance", "system_owner": "a system owner", "director": "the director"}


class ApproverResolver:
    def __init__(self, directory: DirectoryConnector, catalog: SystemCatalog, delegations: Delegations) -> None:
        self.directory = directory
        self.catalog = catalog
        self.delegations = delegations

    async def resolve(self, specs: list[str], *, requester: str, details: RequestDetails,
                      at: datetime, escalation: bool = False) -> list[ApproverRef]:
        """Everyone the specs name, minus the requester, each followed by their active delegate."""
        out: list[ApproverRef] = []
        seen: set[str] = set()
        for spec in specs:
            users, relation = await self._spec(spec, requester, details)
            for user in users:
                if user == requester or user in seen:
                    continue
                seen.add(user)
                out.append(await self._ref(user, relation, escalation=escalation))
        for ref in list(out):
            d = self.delegations.active_for(ref.user, at)
            if d is None or d.delegate in (requester, ref.user) or d.delegate in seen:
                continue
            person = await self.directory.person(d.delegate)
            if person is None:
                continue
            seen.add(d.delegate)
            until = d.ends_at.strftime("%-d %b")
            out.append(ApproverRef(
                user=d.delegate, name=person.name, relation=f"standing in for {ref.name or ref.user} ({ref.relation})",
                on_behalf_of=ref.user, escalation=escalation, until=d.ends_at,
                note=f"{ref.name or ref.user} is away until {until} and named you as delegate"
                + (f": {d.note}" if d.note else ""),
            ))
        return out

    async def _ref(self, user: str, relation: str, *, escalation: bool) -> ApproverRef:
        person = await self.directory.person(user)
        return ApproverRef(user=user, name=person.name if person else user, relation=relation, escalation=escalation)

    async def _spec(self, spec: str, requester: str, details: RequestDetails) -> tuple[list[str], str]:
        kind, _, value = spec.partition(":")
        if kind == "manager":
            manager = await self.directory.manager_of(requester)
            return ([manager] if manager else []), "your manager"
        if kind == "manager_of_manager":
            manager = await self.directory.manager_of(requester)
            top = await self.directory.manager_of(manager) if manager else None
            return ([top] if top else []), "your manager's manager"
        if kind == "system_owners":
            system = self.catalog.get(details.system) if isinstance(details, AccessDetails) else None
            return (list(system.owners) if system else []), f"the {system.name if system else 'system'} owner"
        if kind == "role":
            return await self.directory.with_role(value), ROLE_LABELS.get(value, value.replace("_", " "))
        if kind == "group":
            return await self.directory.in_group(value), f"the {value} group"
        if kind == "user":
            return ([value] if await self.directory.person(value) else []), "named approver"
        raise ValueError(f"unknown approver spec {spec!r}")
