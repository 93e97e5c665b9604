"""The catalog of systems employees can request access to (`data/systems.yml`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from assistant.errors import ConfigurationError


@dataclass(frozen=True)
class System:
    id: str
    name: str
    aliases: tuple[str, ...]
    owners: tuple[str, ...]
    levels: tuple[str, ...]
    group_prefix: str

    def group_for(self, level: str) -> str:
        return f"{self.group_prefix}-{level}"


class SystemCatalog:
    def __init__(self, systems: list[System]) -> None:
        self.systems = systems
        self._names: dict[str, System] = {}
        for s in systems:
            for name in (s.id, s.name, *s.aliases):
                self._names[name.strip().lower()] = s

    @classmethod
    def load(cls, path: Path) -> SystemCatalog:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            systems = [
                System(
                    id=str(e["id"]),
                    name=str(e["name"]),
                    aliases=tuple(str(a) for a in e.get("aliases", [])),
                    owners=tuple(str(o) for o in e["owners"]),
                    levels=tuple(str(level) for level in e["levels"]),
                    group_prefix=str(e.get("group_prefix", e["id"])),
                )
                for e in raw.get("systems", [])
            ]
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"cannot read system catalog {path}: {exc}") from exc
        return cls(systems)

    def get(self, system_id: str) -> System | None:
        return next((s for s in self.systems if s.id == system_id), None)

    def resolve(self, text: str) -> System | None:
        """Exact match on id, name or alias (case-insensitive), else None."""
        return self._names.get(text.strip().lower().removeprefix("the ").strip()) or self._names.get(
            text.strip().lower()
        )

    def closest(self, text: str, *, limit: int = 3, cutoff: float = 50.0) -> list[System]:
        """Catalog systems whose names look like `text`, best first (for "did you mean")."""
        matches = process.extract(
            text.strip().lower(), list(self._names), scorer=fuzz.WRatio, limit=limit * 4,
            score_cutoff=cutoff,
        )
        out: list[System] = []
        for name, _score, _idx in matches:
            system = self._names[name]
            if system not in out:
                out.append(system)
        return out[:limit]
