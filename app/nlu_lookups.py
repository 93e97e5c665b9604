"""The NLU lookup table of system names, generated from the system catalog (data/systems.yml)."""

from __future__ import annotations

from pathlib import Path

from assistant.catalog import SystemCatalog

HEADER = "# Generated from data/systems.yml by `aios train`; edit the catalog, not this file.\n"


def render_system_lookup(catalog: SystemCatalog) -> str:
    # The lookup is case-insensitive (config.yml): one entry per lower-cased name, in a stable order.
    names = sorted({n.lower() for s in catalog.systems for n in (s.name, *s.aliases) if len(n) >= 2})
    lines = [HEADER, 'version: "3.1"', "nlu:", "  - lookup: system", "    examples: |"]
    lines += [f"      - {name}" for name in names]
    return "\n".join(lines) + "\n"


def sync_system_lookup(catalog: SystemCatalog, path: Path) -> bool:
    """Write the lookup file if it differs from the catalog; True when it changed."""
    text = render_system_lookup(catalog)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True
