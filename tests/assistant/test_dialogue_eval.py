"""`aios eval dialogue`: how an outcome is read from Rasa's tracker, and the figures from outcomes."""

from __future__ import annotations

from app.dialogue_eval import Case, Outcome, Report, classify


def user(text: str) -> dict:
    return {"event": "user", "text": text}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def bot(**custom) -> dict:
    return {"event": "bot", "text": custom.get("text", ""), "data": {"custom": custom}}


def test_routes_are_read_from_what_followed_the_last_message():
    earlier = [user("hi"), action("time_off_form"), {"event": "active_loop", "name": "time_off_form"}]
    form = [user("I need Friday off"), action("action_reset_request_slots"), action("time_off_form"),
            {"event": "active_loop", "name": "time_off_form"}]
    assert classify(form)[0] == "form"
    knowledge = [*earlier, user("how many days?"), action("action_answer_knowledge"), bot(kind="answer")]
    assert classify(knowledge)[:3] == ("knowledge", "answer", None)
    answered = [user("when is the all-hands?"), action("action_reset_request_slots"),
                bot(kind="fallback", routing="answered")]
    assert classify(answered)[:3] == ("knowledge", "fallback", "answered")
    unsure_but_answered = [user("until when can I use them?"), action("action_clarify"),
                           bot(kind="fallback", routing="answered")]
    assert classify(unsure_but_answered)[0] == "knowledge"
    clarified = [user("can I?"), action("action_reset_request_slots"), bot(routing="clarified")]
    assert classify(clarified)[0] == "clarify"
    assert classify([user("hi"), action("utter_greet"), bot(text="Hello")])[0] == "other"


def outcome(expect: str, route: str, *, answerable=None, fact=None, document=None, text="", docs=(), kind=None):
    case = Case(id="x", user="alice", message="m", expect=expect, answerable=answerable, fact=fact, document=document)
    return Outcome(case=case, route=route, text=text, documents=list(docs), answer_kind=kind, arbitration=None)


def test_figures():
    report = Report([
        outcome("knowledge", "knowledge", answerable=True, fact="23 days", document="time-off-policy.md",
                text="You get 23  Days [1]", docs=["time-off-policy"], kind="answer"),
        outcome("knowledge", "form", answerable=True, fact="16 weeks", document="time-off-policy.md"),
        outcome("knowledge", "knowledge", answerable=False, kind="dont_know"),
        outcome("knowledge", "knowledge", answerable=False, kind="fallback"),
        outcome("form", "form"),
        outcome("other", "clarify"),
    ])
    f = report.figures()
    assert f["routing_accuracy"] == 4 / 6
    assert f["form_hijack_rate"] == 1 / 4
    assert f["fact_in_reply"] == 1 / 2 and f["right_document_cited"] == 1 / 2
    assert f["dont_know_recall"] == 1 / 2 and f["dont_know_precision"] == 1.0 and f["false_dont_know_rate"] == 0
    assert "knowledge->form" in report.summary()
