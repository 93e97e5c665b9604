"""The company directory: one identity per person, whatever channel they write from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from assistant.errors import ConfigurationError, NotFound

Channel = Literal["web", "slack", "teams"]
CHANNELS: tuple[Channel, ...] = ("web", "slack", "teams")


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    title: str = ""
    manager: str | None = None
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    timezone: str = "UTC"
    preferred_channel: Channel = "web"
    channels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has_role(self, role: str) -> bool:
        return role in self.roles


class Directory:
    """Read-only view of `data/directory.yml` (the embedded stand-in for an IdP/HRIS)."""

    def __init__(self, users: list[User], *, company: str = "") -> None:
        self.company = company
        self._by_id = {u.id: u for u in users}
        self._by_email = {u.email.lower(): u for u in users}
        self._by_channel = {
            (ch, ext_id): u for u in users for ch, ext_id in u.channels.items() if ext_id
        }
        for u in users:
            if u.manager is not None and u.manager not in self._by_id:
                raise ConfigurationError(f"directory: {u.id}'s manager {u.manager!r} is not a user")
        self._check_no_cycles()

    @classmethod
    def load(cls, path: Path) -> Directory:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"cannot read directory {path}: {exc}") from exc
        users = []
        seen: set[str] = set()
        for entry in raw.get("users", []):
            try:
                uid = str(entry["id"])
                preferred = entry.get("preferred_channel", "web")
                if preferred not in CHANNELS:
                    raise ValueError(f"unknown preferred_channel {preferred!r}")
                user = User(
                    id=uid,
                    name=str(entry["name"]),
                    email=str(entry["email"]),
                    title=str(entry.get("title", "")),
                    manager=entry.get("manager"),
                    roles=frozenset(entry.get("roles", [])),
                    groups=frozenset(entry.get("groups", [])),
                    timezone=str(entry.get("timezone", "UTC")),
                    preferred_channel=preferred,
                    channels={k: str(v) for k, v in (entry.get("channels") or {}).items()},
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigurationError(f"directory {path}: bad user entry {entry!r}: {exc}") from exc
            if uid in seen:
                raise ConfigurationError(f"directory {path}: duplicate user id {uid!r}")
            seen.add(uid)
            users.append(user)
        return cls(users, company=str(raw.get("company", "")))

    def _check_no_cycles(self) -> None:
        for u in self._by_id.values():
            seen = {u.id}
            cur = u
            while cur.manager is not None:
                if cur.manager in seen:
                    raise ConfigurationError(f"directory: reporting cycle through {cur.manager!r}")
                seen.add(cur.manager)
                cur = self._by_id[cur.manager]

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._by_id

    def __iter__(self):
        return iter(self._by_id.values())

    def get(self, user_id: str) -> User:
        try:
            return self._by_id[user_id]
        except KeyError:
            raise NotFound(f"no such user: {user_id}") from None

    def find(self, user_id: str) -> User | None:
        return self._by_id.get(user_id)

    def by_email(self, email: str) -> User | None:
        return self._by_email.get(email.strip().lower())

    def by_channel_id(self, channel: str, external_id: str) -> User | None:
        return self._by_channel.get((channel, external_id))

    def manager_of(self, user_id: str) -> User | None:
        manager = self.get(user_id).manager
        return self._by_id[manager] if manager else None

    def with_role(self, role: str) -> list[User]:
        return [u for u in self._by_id.values() if role in u.roles]

    def match_person(self, text: str) -> User | None:
        """A user by id, full name, first name or email, case-insensitive."""
        needle = text.strip().lower().lstrip("@")
        for u in self._by_id.values():
            if needle in (u.id, u.name.lower(), u.first_name.lower(), u.email.lower()):
                return u
        return None
