"""Prometheus metrics of the gateway."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CHAT_TURNS = Counter("aios_chat_turns_total", "Chat turns handled", ["channel", "outcome"])
CHAT_LATENCY = Histogram(
    "aios_chat_turn_seconds", "Gateway time per chat turn (Rasa included)", ["channel"],
    buckets=(0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30),
)
RASA_LATENCY = Histogram(
    "aios_rasa_call_seconds", "Time spent waiting for Rasa per turn",
    buckets=(0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30),
)
ERRORS = Counter("aios_gateway_errors_total", "Error responses by code", ["code"])
NOTIFY_FAILURES = Counter(
    "aios_notify_delivery_failures_total", "Failed attempts to hand a notification to a channel (retried)",
    ["channel"],
)
NOTIFY_DEAD_LETTERS = Counter(
    "aios_notify_dead_letters_total", "Notifications given up on (GET /api/admin/outbox?state=dead)", ["kind"],
)
