"""What the gateway counts of Rasa's reading of a message: intent, confidence, fallbacks (typed text only)."""

from __future__ import annotations

import pytest

from assistant.settings.metrics import MetricsSettings, host_port
from channels import metrics
from tests.prometheus import local


def counts(intent: str) -> tuple[float, float, float]:
    return (local("aios_nlu_intents_total", intent=intent), local("aios_nlu_confidence_count", intent=intent),
            local("aios_nlu_fallbacks_total", intent=intent))


@pytest.mark.parametrize("intent, confidence, typed, moved", [
    ("request_access", 0.93, True, (1, 1, 0)),
    ("nlu_fallback", 0.45, True, (1, 1, 1)),  # the FallbackClassifier: under 0.45, or the top two too close
    ("out_of_scope", 0.88, True, (1, 1, 1)),  # understood, but nothing the assistant does
    ("approve_request", 1.0, False, (0, 0, 0)),  # a button's payload names its intent: not NLU
    ("greet", None, True, (1, 0, 0)),  # no confidence in the header: counted, not observed
])
def test_typed_messages_are_counted_by_intent_and_fallbacks_apart(intent, confidence, typed, moved):
    before = counts(intent)
    metrics.observe_nlu(intent, confidence, typed=typed)
    assert tuple(a - b for a, b in zip(counts(intent), before, strict=True)) == moved


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
