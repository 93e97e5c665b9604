"""Prometheus metrics of the gateway."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

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
# NLU: what Rasa read in each typed message (button payloads name their intent: not NLU). A fallback is
# Rasa's `nlu_fallback` (the FallbackClassifier of app/rasa/config.yml: top intent under 0.45, or the
# top two within 0.08) or `out_of_scope` (understood as something the assistant does not do).
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
NLU_INTENTS = Counter("aios_nlu_intents_total", "Typed messages by the intent Rasa read", ["intent"])
NLU_CONFIDENCE = Histogram(
    "aios_nlu_confidence", "Rasa's confidence in the intent it read, per typed message", ["intent"],
    buckets=(0.1, 0.2, 0.3, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0),
)
NLU_FALLBACKS = Counter(
    "aios_nlu_fallbacks_total", "Typed messages Rasa could not map to something the assistant does, by "
    "fallback intent and the intent the classifier leaned to (candidate; none when Rasa did not say)",
    ["intent", "candidate"],
)

# The notification outbox (written by the worker, delivered by the gateway's dispatcher).
LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)


@dataclass(frozen=True)
class DeliveryMetrics:
    """What the notification dispatcher records. One set per process (`DELIVERY`); a test gives its
    dispatcher a set of its own (`in_registry`), so that the gateway another test serves in the same
    process cannot move the figures it reads."""

    delivered: Counter
    lag: Histogram
    failures: Counter
    dead_letters: Counter
    pending: Gauge
    oldest: Gauge

    @classmethod
    def in_registry(cls, registry: CollectorRegistry = REGISTRY) -> DeliveryMetrics:
        return cls(
            delivered=Counter("aios_notify_delivered_total", "Notifications a channel took", ["channel"],
                              registry=registry),
            lag=Histogram("aios_notify_delivery_lag_seconds", "From the worker queueing a notification to a "
                          "channel taking it, by kind (card: an approval card)", ["channel", "kind"],
                          buckets=LAG_BUCKETS, registry=registry),
            failures=Counter("aios_notify_delivery_failures_total",
                             "Failed attempts to hand a notification to a channel (retried)", ["channel"],
                             registry=registry),
            dead_letters=Counter("aios_notify_dead_letters_total",
                                 "Notifications given up on (GET /api/admin/outbox?state=dead)", ["kind"],
                                 registry=registry),
            pending=Gauge("aios_notify_outbox_pending",
                          "Notifications waiting in the outbox (every replica counts all)", registry=registry),
            oldest=Gauge("aios_notify_outbox_oldest_pending_seconds",
                         "Age of the oldest notification waiting in the outbox (0: none)", registry=registry),
        )


DELIVERY = DeliveryMetrics.in_registry()

# Slack and Teams requests refused before anything reads them, and redeliveries dropped.
CHANNEL_REFUSALS = Counter(
    "aios_channel_refusals_total", "Slack/Teams requests refused (bad signature, missing or invalid token)",
    ["channel", "reason"],
)
CHANNEL_DUPLICATES = Counter(
    "aios_channel_duplicates_total", "Redelivered Slack events and Teams activities acknowledged and dropped",
    ["channel"],
)


def observe_nlu(intent: str | None, confidence: float | None, *, typed: bool = True,
                candidate: str | None = None) -> None:
    """Count the intent Rasa read for one message (nothing when Rasa did not say, or for a button)."""
    if intent is None or not typed:
        return
    NLU_INTENTS.labels(intent=intent).inc()
    if confidence is not None:
        NLU_CONFIDENCE.labels(intent=intent).observe(confidence)
    if intent in FALLBACK_INTENTS:
        NLU_FALLBACKS.labels(intent=intent, candidate=candidate or "none").inc()
