"""Ingestions in progress, for the admin page's status line."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Job:
    id: str
    filename: str
    actor: str
    stage: str = "queued"
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.time)
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "filename": self.filename, "actor": self.actor, "stage": self.stage,
                "done": self.done, "total": self.total, "started": self.started, "error": self.error}


class Jobs:
    """Running ingestions, plus the last few finished ones."""

    def __init__(self, keep: int = 20) -> None:
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._keep = keep

    def start(self, filename: str, actor: str) -> Job:
        with self._lock:
            job = Job(f"job-{next(self._ids)}", filename, actor)
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.stage in ("done", "failed")]
            for old in finished[:-self._keep]:
                self._jobs.pop(old.id, None)
        return job

    def progress(self, job: Job, stage: str, done: int, total: int) -> None:
        job.stage, job.done, job.total = stage, done, total

    def all(self) -> list[dict[str, object]]:
        with self._lock:
            return [j.as_dict() for j in self._jobs.values()]
