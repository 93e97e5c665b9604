"""Follow-up questions are searched together with the previous question; new questions alone."""

from __future__ import annotations

import pytest

from knowledge.answering.followup import search_query


@pytest.mark.parametrize("question", ["and for part-timers?", "what about after 5 years?", "how do I request it?",
                                      "and secondary caregivers?"])
def test_follow_ups_carry_the_previous_question(question):
    query, previous = search_query(question, "how many vacation days do I get?")
    assert previous == "how many vacation days do I get?"
    assert query.startswith("how many vacation days do I get?") and query.endswith(question)


@pytest.mark.parametrize("question", ["how do I set up the VPN on my laptop?",
                                      "what is the hotel limit per night in Paris for business trips?"])
def test_standalone_questions_stand_alone(question):
    assert search_query(question, "how many vacation days do I get?") == (question, None)


def test_without_a_previous_question_nothing_changes():
    assert search_query("and for part-timers?", None) == ("and for part-timers?", None)
