"""Which typed messages are questions rather than requests (the arbitration's trigger)."""

from __future__ import annotations

import pytest

from actions.routing import reads_as_question


@pytest.mark.parametrize("text", [
    "when does the Friday all-hands start?",
    "is my Miro account removed when I change teams?",
    "I want 2 weeks off in August, how much notice do I need to give?",
    "do contractors get a company laptop",
    "how do I expense a client dinner",
    "which expenses need a receipt?",
    "are parking costs reimbursed?",
])
def test_questions(text):
    assert reads_as_question(text)


@pytest.mark.parametrize("text", [
    "can I take Dec 7 to 9 off? it's vacation",
    "could you give me access to githbu",
    "I need access to GitHub, write please",
    "my laptop won't boot after the update",
    "I paid 1450 euros for a taxi to the airport yesterday",
    "book me off next friday please",
    "I'd like to take the 22nd to the 26th of September off for a trip to Lisbon",
    "may I get read access to the finance drive?",
])
def test_requests(text):
    assert not reads_as_question(text)


@pytest.mark.parametrize(("text", "about"), [
    ("until what date can I take them?", False),
    ("I drove 120 km yesterday, what's the rate per kilometre?", False),
    ("what's the status of my ticket?", True),
    ("what have I asked for", True),
    ("any of my requests still open?", True),
    ("did my manager approve it?", True),
])
def test_what_is_about_the_persons_own_requests(text, about):
    from actions.routing import about_requests

    assert about_requests(text) is about


def test_any_question_for_the_places_with_nothing_better_to_offer():
    from actions.routing import looks_like_question

    assert looks_like_question("my flight is 13 hours, can I book premium economy?")
    assert not reads_as_question("my flight is 13 hours, can I book premium economy?")
    assert not looks_like_question("tell me a joke")
