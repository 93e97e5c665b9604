"""Per-person limits on chat turns and questions, so one person cannot take the assistant from everyone.

A sliding window in this process. With several gateway replicas behind a load balancer each counts
its own share (a person's limit is then at most N times this); a shared store is the scale-out work.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from assistant.errors import RateLimited


class PersonLimiter:
    """At most `limit` events per person within `window` seconds."""

    def __init__(self, *, limit: int, window: float, what: str) -> None:
        self.limit, self.window, self.what = limit, window, what
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, person: str, *, now: float | None = None) -> None:
        """Count one event for `person`, or raise RateLimited with how long to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(person, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                wait = max(1, math.ceil(events[0] + self.window - now))
                raise RateLimited(f"You're sending {self.what} faster than I can keep up with; "
                                  f"please wait {wait} seconds and try again.", retry_after=wait)
            events.append(now)
            if len(self._events) > 10_000:  # forget people who went quiet
                for key in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
                    del self._events[key]
