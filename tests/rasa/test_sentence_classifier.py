"""The sentence-vector intent classifier trains, persists, computes scikit-learn's probabilities and
blends them with DIET's ranking (in the Rasa environment, on real MiniLM features)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from app import rasa_server
from app.local_stack import make_settings

CHECK = Path(__file__).parent / "in_rasa" / "check_sentence_classifier.py"


@pytest.fixture(scope="module")
def outcome(tmp_path_factory) -> dict:
    settings = make_settings(tmp_path_factory.mktemp("blender"))
    result = subprocess.run([str(settings.rasa.python), str(CHECK)], env=rasa_server.rasa_env(settings),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_computes_what_scikit_learn_computes(outcome):
    assert outcome["classes"] == ["ask_knowledge", "request_access", "request_time_off"]
    assert outcome["max_probability_difference"] < 1e-6


def test_the_regression_outvotes_a_wrong_diet_lean(outcome):
    ranking = outcome["ranking"]
    assert outcome["intent"]["name"] == "request_access" == ranking[0]["name"]
    assert outcome["intent"]["confidence"] == ranking[0]["confidence"]
    confidences = [r["confidence"] for r in ranking]
    assert confidences == sorted(confidences, reverse=True) and abs(sum(confidences) - 1.0) < 1e-6
    # DIET's intents outside the regression's classes keep their share of DIET's confidence.
    assert {r["name"] for r in ranking} == {"ask_knowledge", "request_access", "request_time_off", "greet"}
    assert [r["confidence"] for r in ranking if r["name"] == "greet"] == [pytest.approx(0.4 * 0.05)]


def test_weight_zero_leaves_diet_alone(outcome):
    assert outcome["untouched"] is True


def test_two_intents_give_scikit_learns_probabilities_too(outcome):
    two = outcome["two_classes"]
    assert two["classes"] == ["request_access", "request_time_off"] and two["coef_rows"] == 1
    assert two["difference"] < 1e-6


def test_one_intent_is_a_configuration_error(outcome):
    assert outcome["one_class"].startswith("InvalidConfigException: SentenceIntentBlender needs examples of two")


def test_the_ranking_stops_at_its_length(outcome):
    assert outcome["everything"] == 4  # ranking_length 0: every intent, as in Rasa
    # DIET a 0.7, b 0.3; the regression a 0.1, b 0.2, c 0.7; half each: a 0.40, c 0.35, b 0.25.
    assert [(r["name"], round(r["confidence"], 6)) for r in outcome["first_two"]] == [("a", 0.4), ("c", 0.35)]
