"""Routing answers given outside a form, and the clarifying question."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.dialogue import ActionClarify, form_for_entities, form_to_start
from tests.actions.test_forms import DOMAIN, services, tracker  # noqa: F401 - fixtures


def test_entities_point_to_one_form():
    assert form_for_entities({"leave_type", "date"}) == "time_off_form"
    assert form_for_entities({"system"}) == "access_form"
    assert form_for_entities({"amount", "currency"}) == "expense_form"
    assert form_for_entities({"date"}) is None  # a date alone could be leave or a receipt
    assert form_for_entities({"leave_type", "system"}) is None  # ambiguous: ask


def test_uncertain_message_starts_a_form_only_when_intent_and_entities_agree():
    ranking = [{"name": "nlu_fallback"}, {"name": "request_time_off"}, {"name": "greet"}]
    assert form_to_start("nlu_fallback", ranking, {"leave_type", "date"}) == "time_off_form"
    assert form_to_start("nlu_fallback", ranking, {"system"}) is None
    assert form_to_start("nlu_fallback", [{"name": "greet"}], {"leave_type"}) is None
    assert form_to_start("greet", ranking, {"leave_type"}) is None


async def test_an_answer_with_a_leave_type_starts_the_time_off_form(services):  # noqa: F811
    t = tracker("sick leave from Oct 8", intent="inform",
                entities=[{"entity": "leave_type", "value": "sick"}, {"entity": "date", "value": "Oct 8"}])
    t.active_loop = {}
    events = await ActionClarify(services).run(CollectingDispatcher(), t, DOMAIN)
    assert {"event": "followup", "name": "time_off_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events]


async def test_low_confidence_offers_the_top_intents_and_keeps_the_words(services):  # noqa: F811
    t = tracker("blorp the thing", intent="nlu_fallback")
    t.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.5}, {"name": "report_it_issue", "confidence": 0.3},
        {"name": "ask_knowledge", "confidence": 0.2}]
    dispatcher = CollectingDispatcher()
    events = await ActionClarify(services).run(dispatcher, t, DOMAIN)
    titles = [b["title"] for m in dispatcher.messages for b in m.get("buttons", [])]
    assert titles[:2] == ["Report an IT issue", "Search the handbook"]
    assert {"event": "slot", "name": "last_question", "value": "blorp the thing"} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events]


async def test_an_unsure_date_answer_inside_a_form_is_left_to_the_form(services):  # noqa: F811
    asked = {"requested_slot": "start_date"}
    t = tracker("Feb 30", intent="nlu_fallback", slots=asked)
    t.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.5},
                                          {"name": "greet", "confidence": 0.2}]
    dispatcher = CollectingDispatcher()
    assert await ActionClarify(services).run(dispatcher, t, DOMAIN) == [] and not dispatcher.messages
    # Words that are not a date still get the clarifying question, in a form or not.
    t = tracker("blorp", intent="nlu_fallback", slots=asked)
    await ActionClarify(services).run(dispatcher, t, DOMAIN)
    assert dispatcher.messages and "not sure" in dispatcher.messages[0]["text"]
