"""Picking the sentence or table row that answers the question (the lead line of an extracted answer)."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.answering.answerer import misses_the_value
from knowledge.answering.excerpts import Excerpt
from knowledge.answering.pinpoint import Pinpoint, in_range, pinpoint, wanted

ALLOWANCE = [
    "Every employee gets paid vacation each year.",
    "Years of service: less than 3 years; Vacation days per year: 25 days",
    "Years of service: 3 to 5 years; Vacation days per year: 27 days",
    "Years of service: more than 5 years; Vacation days per year: 30 days",
]


def excerpt(sentences: list[str], similarity: list[float]) -> Excerpt:
    sims = np.array(similarity)
    return Excerpt(sentences, np.zeros((len(sentences), 3)), sims, sentences[int(sims.argmax())], tuple(sentences))


@pytest.mark.parametrize(("question", "kind"), [
    ("how many vacation days do I get?", "number"),
    ("how many days of notice do I give?", "duration"),
    ("how long is parental leave?", "duration"),
    ("what's the maximum for a hotel night in Zurich?", "number"),
    ("what time is the welcome call on day one?", "time"),
    ("when do I need a doctor's note?", "time"),
    ("who is the head of the IT team?", "who"),
    ("is there a dress code?", None),
    ("what is the per diem for meals when travelling abroad", None),  # "when" as a conjunction
    ("I'm sick, from when do I need a doctor's note?", "time"),
])
def test_the_kind_of_fact_a_question_wants(question, kind):
    assert wanted(question) == kind


def test_a_number_in_the_question_picks_the_row_whose_range_holds_it():
    assert in_range("how many days after 4 years?", ALLOWANCE[2])
    assert not in_range("how many days after 4 years?", ALLOWANCE[1])
    assert in_range("I've been here 2 years", ALLOWANCE[1])
    assert in_range("and after 7 years?", ALLOWANCE[3])
    assert not in_range("in 2027, how many days?", ALLOWANCE[2])  # a year is not a count


def test_the_row_that_holds_the_asked_number_beats_a_closer_sounding_neighbour():
    # The embedding likes the first row best; the question's "4 years" falls in the second.
    cut = [excerpt(ALLOWANCE, [0.55, 0.62, 0.58, 0.57])]
    assert pinpoint("how many vacation days do I get once I've been here 4 years?", cut).sentence == ALLOWANCE[2]


def test_a_sentence_with_the_wanted_kind_of_fact_wins_a_close_call():
    sentences = ["The welcome call introduces the team.", "The welcome call starts at 10:00 on your first day."]
    cut = [excerpt(sentences, [0.70, 0.64])]
    assert pinpoint("what time is the welcome call?", cut).sentence == sentences[1]
    # Without a cue, similarity decides.
    assert pinpoint("tell me about the welcome call", cut).sentence == sentences[0]


def test_what_a_sentence_states():
    from knowledge.answering.pinpoint import states

    assert states("duration", "Bereavement: up to 5 paid days for a close family member.")
    assert states("duration", "Passwords must have at least 14 characters.")
    assert not states("duration", "You cannot apply while you are on a performance improvement plan.")
    assert states("time", "The welcome call starts at 10:00.") and states("time", "Submit it by March 31.")
    assert not states("time", "The calibration guidelines are written for managers.")


def test_a_how_long_question_takes_the_sentence_with_a_duration_when_it_is_nearly_as_close():
    sentences = ["Calibration sessions are held once a year for each department.",
                 "Each calibration meeting takes about 90 minutes."]
    cut = [excerpt(sentences, [0.66, 0.60])]
    assert pinpoint("how long do the calibration meetings take", cut).sentence == sentences[1]


ENROLMENT = ("Enrol within 30 days of your start date in the HR system; later enrolment is only possible at the "
             "yearly renewal in January.")


NOTICE = "Give at least two weeks' notice, and ask your manager by Friday."


@pytest.mark.parametrize(("question", "draft", "sentence", "misses"), [
    # The draft repeats the question's own number and leaves out the month the sentence adds.
    ("I missed the 30-day enrolment, when can I still sign up?", "You can sign up within 30 days.", ENROLMENT, True),
    ("I missed the 30-day enrolment, when can I still sign up?", "At the renewal in Jan.", ENROLMENT, False),
    # The neighbouring row's number is not the answer; the row's own is.
    ("after 4 years, how many vacation days?", "You get 25 days.", ALLOWANCE[2], True),
    ("after 4 years, how many vacation days?", "You get 27 days.", ALLOWANCE[2], False),
    # A weekday is a value only when the question asks "when"; "may" is a verb, never a month.
    ("how much notice do I need to give?", "Two weeks' notice.", NOTICE, False),
    ("when do I have to ask my manager?", "Ask your manager two weeks before.", NOTICE, True),
    ("when can I carry days over?", "By the end of the year.", "You may carry days over until the end of the year.",
     False),
])
def test_a_draft_that_leaves_out_the_sentences_value_misses_it(question, draft, sentence, misses):
    assert misses_the_value(draft, question, Pinpoint(0, sentence, 1.0)) is misses
