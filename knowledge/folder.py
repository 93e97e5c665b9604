"""Documents on disk: files or folders, with groups from an optional `manifest.yml` per folder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.errors import ConfigurationError
from knowledge.parsing.detect import EXTENSIONS

MANIFEST = "manifest.yml"


@dataclass(frozen=True)
class LocalDocument:
    path: Path
    groups: tuple[str, ...] | None  # None: the store's default groups


def _manifest(folder: Path) -> dict[str, tuple[str, ...]]:
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return {str(name): tuple(str(g) for g in (entry or {}).get("groups") or ())
                for name, entry in (raw.get("documents") or {}).items()}
    except (OSError, yaml.YAMLError, AttributeError, TypeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from exc


def collect(paths: Iterable[Path], *, groups: tuple[str, ...] | None = None) -> list[LocalDocument]:
    """Files as given, and the supported files of folders (recursively, hidden ones skipped).

    Explicit `groups` win over a manifest; files of unsupported types inside folders are skipped,
    but a file named explicitly is kept so that its refusal is reported.
    """
    out: list[LocalDocument] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = file.relative_to(path)
                if any(part.startswith(".") for part in rel.parts) or file.name == MANIFEST:
                    continue
                if file.suffix.lower() not in EXTENSIONS:
                    continue
                manifest = _manifest(file.parent)
                out.append(LocalDocument(file, groups or manifest.get(file.name) or None))
        elif path.is_file():
            out.append(LocalDocument(path, groups or _manifest(path.parent).get(path.name) or None))
        else:
            raise ConfigurationError(f"no such file or folder: {path}")
    return out
