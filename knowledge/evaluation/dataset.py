"""The evaluation file: documents to load, who asks, and what a right answer contains."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.errors import ConfigurationError


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    user: str
    document: str | None
    facts: tuple[str, ...]
    answerable: bool
    forbidden: str | None  # a document that exists but the user may not read


@dataclass(frozen=True)
class EvalSet:
    path: Path
    documents_dir: Path
    questions: tuple[EvalQuestion, ...]


def load_eval_set(path: Path, *, documents_dir: Path | None = None) -> EvalSet:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read evaluation set {path}: {exc}") from exc
    docs = documents_dir or (path.parent / str(raw.get("documents", "."))).resolve()
    default_user = str(raw.get("default_user", "alice"))
    questions = []
    for n, entry in enumerate(raw.get("questions") or [], start=1):
        try:
            answerable = bool(entry.get("answerable", True))
            question = EvalQuestion(
                question=str(entry["q"]),
                user=str(entry.get("user", default_user)),
                document=str(entry["document"]) if answerable else None,
                facts=tuple(str(f) for f in entry.get("facts") or ()),
                answerable=answerable,
                forbidden=entry.get("forbidden"),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigurationError(f"{path}: question {n} is malformed ({exc})") from exc
        questions.append(question)
    if not questions:
        raise ConfigurationError(f"{path}: no questions")
    return EvalSet(path, docs, tuple(questions))
