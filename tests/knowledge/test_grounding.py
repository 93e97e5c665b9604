"""The groundedness check on real embeddings: what counts as supported, and what does not."""

from __future__ import annotations

import pytest

from knowledge.answering.excerpts import excerpts
from knowledge.answering.grounding import check

PASSAGES = [
    "Every full-time employee gets 25 vacation days per calendar year. You may carry over up to 5 unused "
    "vacation days into the next year. Carried-over days must be taken by March 31.",
    "The company matches your pension contributions up to 5% of your base salary.",
]
QUESTION = "can I take unused vacation days into next year?"


@pytest.fixture(scope="module")
def setup(embedder):
    vector = embedder.embed_one(QUESTION)
    cut = excerpts(PASSAGES, vector, embedder, budget=200)
    return embedder, vector, cut


def run(setup, answer, question=QUESTION):
    embedder, vector, cut = setup
    if question != QUESTION:
        vector = embedder.embed_one(question)
        cut = excerpts(PASSAGES, vector, embedder, budget=200)
    return check(answer, question, cut, embedder, threshold=0.62)


def test_a_paraphrase_of_a_passage_is_supported_and_cited(setup):
    result = run(setup, "Yes, you can carry over up to 5 unused vacation days into the next year.")
    assert result.ok, result.reason
    assert result.text.endswith("[1]") and result.cited == [1]


def test_a_wrong_citation_is_rewritten_to_the_supporting_passage(setup):
    result = run(setup, "You may carry over up to 5 unused vacation days. [2]")
    assert result.ok and result.cited == [1]


def test_a_citation_to_a_passage_that_does_not_exist_fails(setup):
    assert not run(setup, "You may carry over up to 5 unused vacation days [7].").ok


def test_a_number_not_in_the_passages_is_unsupported(setup):
    result = run(setup, "You may carry over up to 12 unused vacation days into the next year.")
    assert not result.ok and "unsupported" in result.reason


def test_a_contradiction_is_unsupported(setup):
    result = run(setup, "The company does not match pension contributions.",
                 question="does the company match pension contributions?")
    assert not result.ok


def test_an_invented_claim_is_unsupported(setup):
    assert not run(setup, "Unused days are converted into a cash bonus paid every December.").ok


def test_restating_the_question_is_not_an_answer(setup):
    result = run(setup, "Can I take unused vacation days into next year?")
    assert not result.ok and "restates" in result.reason


@pytest.mark.parametrize("answer", ["", "   ", "I don't know.", "The answer is:"])
def test_empty_or_dont_know_is_not_an_answer(setup, answer):
    assert not run(setup, answer).ok


def test_lead_in_boilerplate_is_dropped(setup):
    result = run(setup, "The answer is: you may carry over up to 5 unused vacation days into the next year.")
    assert result.ok and not result.text.lower().startswith("the answer")


def test_a_citation_before_the_full_stop_leaves_no_stray_space(setup):
    result = run(setup, "You may carry over up to 5 unused vacation days into the next year [1].")
    assert result.ok, result.reason
    assert result.text == "You may carry over up to 5 unused vacation days into the next year. [1]"
