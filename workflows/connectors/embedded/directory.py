"""The embedded directory connector: data/directory.yml (the stand-in for an IdP/HRIS)."""

from __future__ import annotations

from assistant.directory import Directory
from workflows.connectors.models import Person


class EmbeddedDirectory:
    system = "embedded-directory"

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    async def person(self, user_id: str) -> Person | None:
        u = self.directory.find(user_id)
        if u is None:
            return None
        return Person(id=u.id, name=u.name, email=u.email, manager=u.manager, roles=sorted(u.roles),
                      groups=sorted(u.groups), timezone=u.timezone)

    async def manager_of(self, user_id: str) -> str | None:
        u = self.directory.find(user_id)
        return u.manager if u else None

    async def with_role(self, role: str) -> list[str]:
        return [u.id for u in self.directory.with_role(role)]

    async def in_group(self, group: str) -> list[str]:
        return [u.id for u in self.directory if group in u.groups]
