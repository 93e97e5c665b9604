"""What the gateway counts of Rasa's reading of a message: intent, confidence, fallbacks (typed text only)."""

from __future__ import annotations

import pytest

from assistant.settings.metrics import MetricsSettings, host_port
from channels import metrics
from channels.rasa_client import parse_nlu_header
from tests.prometheus import local


def counts(intent: str, candidate: str = "none") -> tuple[float, float, float]:
    return (local("aios_nlu_intents_total", intent=intent), local("aios_nlu_confidence_count", intent=intent),
            local("aios_nlu_fallbacks_total", intent=intent, candidate=candidate))


@pytest.mark.parametrize("intent, confidence, typed, candidate, moved", [
    ("request_access", 0.93, True, None, (1, 1, 0)),
    # the FallbackClassifier (under 0.45, or the top two too close), with the intent it leaned to
    ("nlu_fallback", 0.45, True, "request_access", (1, 1, 1)),
    ("nlu_fallback", 0.45, True, None, (1, 1, 1)),
    ("out_of_scope", 0.88, True, None, (1, 1, 1)),  # understood, but nothing the assistant does
    ("approve_request", 1.0, False, None, (0, 0, 0)),  # a button's payload names its intent: not NLU
    ("greet", None, True, None, (1, 0, 0)),  # no confidence in the header: counted, not observed
])
def test_typed_messages_are_counted_by_intent_and_fallbacks_apart(intent, confidence, typed, candidate, moved):
    before = counts(intent, candidate or "none")
    metrics.observe_nlu(intent, confidence, typed=typed, candidate=candidate)
    assert tuple(a - b for a, b in zip(counts(intent, candidate or "none"), before, strict=True)) == moved


@pytest.mark.parametrize("header, read", [
    ("greet;confidence=0.9712", ("greet", 0.9712, None)),
    ("nlu_fallback;confidence=0.4500;candidate=request_access", ("nlu_fallback", 0.45, "request_access")),
    ("nlu_fallback;candidate=bad name!;confidence=2", ("nlu_fallback", None, None)),  # out of range, unreadable
    ("greet;confidence=lots", ("greet", None, None)),
    ("<script>;confidence=0.5", (None, None, None)),
    ("", (None, None, None)),
    (None, (None, None, None)),
])
def test_the_nlu_header_is_read_defensively(header, read):
    assert parse_nlu_header(header) == read


def test_a_turn_without_the_nlu_header_counts_nothing():
    before = local("aios_nlu_intents_total", intent="None")
    metrics.observe_nlu(None, None)
    assert local("aios_nlu_intents_total", intent="None") == before


def test_the_unauthenticated_endpoints_stay_on_loopback_unless_the_network_is_private():
    assert host_port(MetricsSettings().worker_address) == ("127.0.0.1", 9464)
    assert host_port(MetricsSettings(actions_address="").actions_address) is None
    with pytest.raises(ValueError, match="not loopback"):
        MetricsSettings(worker_address="0.0.0.0:9464")
    assert MetricsSettings(worker_address="0.0.0.0:9464", network=True).network
    with pytest.raises(ValueError, match="host:port"):
        MetricsSettings(actions_address="9465")
