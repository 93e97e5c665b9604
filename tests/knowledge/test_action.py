"""`action_answer_knowledge` against the real knowledge service: the asking user's groups, the
question behind a "Search the handbook" click, follow-ups, and sources renumbered for the widget."""

from __future__ import annotations

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import ActionAnswerKnowledge, render
from actions.server import build_services
from app.local_stack import free_port, make_settings
from knowledge.models import Answer, Citation
from knowledge.seed import seed_if_empty
from knowledge.service import create_app
from tests.knowledge.conftest import HANDBOOK, open_runtime, serve


@pytest.fixture(scope="module")
async def action(tmp_path_factory, embedder, generation):
    settings = make_settings(tmp_path_factory.mktemp("action"))
    rt = open_runtime(settings, settings.core.var_dir, embedder, generation)
    seed_if_empty(rt.store, HANDBOOK)
    async with serve(create_app(settings, runtime=rt), settings.knowledge.host, settings.knowledge.port):
        async with httpx.AsyncClient() as http:
            yield ActionAnswerKnowledge(build_services(settings), http=http)
    rt.close(close_generator=False)


def tracker(user: str, text: str, *, last_question: str | None = None, metadata: dict | None = None) -> Tracker:
    latest = {"text": text, "intent": {"name": "ask_knowledge"}, "metadata": metadata or {}}
    return Tracker(user, {"last_question": last_question}, latest,
                   [{"event": "user", "text": text}], False, None, {}, "action_listen")


async def run(action, user, text, **kw):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(user, text, **kw), {})
    assert len(dispatcher.messages) == 1
    return dispatcher.messages[0], events


async def test_answers_with_sources_and_remembers_the_question(action):
    message, events = await run(action, "alice", "how many days can I work from abroad each year?")
    custom = message["custom"]
    assert custom["sources"][0]["document_id"] == "remote-work-policy"
    assert [s["index"] for s in custom["sources"]] == list(range(1, len(custom["sources"]) + 1))
    assert "[1]" in custom["text"]
    assert events == [{"event": "slot", "timestamp": None, "name": "last_question",
                       "value": "how many days can I work from abroad each year?"}]


async def test_a_client_that_streams_gets_the_question_to_ask_instead_of_an_answer(tmp_path):
    """The web widget streams answers itself: the action asks nothing (the service here is down,
    and no error is said) and hands over the question with the one before it."""
    settings = make_settings(tmp_path)
    settings.knowledge.port = free_port()
    async with httpx.AsyncClient() as http:
        action = ActionAnswerKnowledge(build_services(settings), http=http)
        message, events = await run(action, "alice", "and after 5 years?", last_question="how many vacation days?",
                                    metadata={"channel": "web", "stream": True})
    assert message["custom"] == {"stream": {"question": "and after 5 years?",
                                            "previous_question": "how many vacation days?"}}
    assert events[0]["value"] == "and after 5 years?"


async def test_a_search_the_handbook_click_answers_the_earlier_question(action):
    message, _ = await run(action, "alice", "/ask_knowledge", last_question="how do I set up the VPN?")
    assert message["custom"]["sources"][0]["document_id"] == "vpn-setup"


async def test_follow_up_questions_use_the_previous_one(action):
    message, events = await run(action, "alice", "and after 5 years?", last_question="how many vacation days do I get?")
    assert message["custom"]["sources"][0]["document_id"] == "time-off-policy"
    assert events[0]["value"] == "and after 5 years?"


async def test_users_only_get_what_their_groups_may_read(action):
    message, _ = await run(action, "alice", "what is the merit budget in the salary review?")
    # At most a pointer to something alice may read (the merit budget's page is for managers).
    assert "won't guess" in message["custom"]["text"]
    assert "manager-compensation-guide" not in {s["document_id"] for s in message["custom"]["sources"]}
    assert message["custom"]["buttons"][0]["payload"] == "/report_it_issue"
    message, _ = await run(action, "bob", "what is the merit budget in the salary review?")
    assert message["custom"]["sources"][0]["document_id"] == "manager-compensation-guide"


async def test_knowledge_down_is_said_plainly(tmp_path):
    settings = make_settings(tmp_path)
    settings.knowledge.port = free_port()
    async with httpx.AsyncClient() as http:
        action = ActionAnswerKnowledge(build_services(settings), http=http)
        message, _ = await run(action, "alice", "how do I set up the VPN?")
    assert "can't reach the company documents" in message["text"]


def test_citations_are_renumbered_in_order_of_appearance():
    def cite(i: int, doc: str) -> Citation:
        return Citation(index=i, chunk_id=f"{doc}:v1:0000{i}", document_id=doc, title=doc.title(), section="S")

    answer = Answer(kind="answer", text="First [3]. Second [1]. Again [3].", citations=[cite(1, "b"), cite(3, "a")],
                    model="smollm2")
    message = render(answer, "what comes first?")
    assert message["text"] == "First [1]. Second [2]. Again [1]."
    assert [(s["index"], s["document_id"], s["chunk_id"]) for s in message["sources"]] == [
        (1, "a", "a:v1:00003"), (2, "b", "b:v1:00001")]  # the passage, for the document view
    # What the gateway records for feedback goes with it.
    assert (message["question"], message["kind"], message["model"]) == ("what comes first?", "answer", "smollm2")


def test_a_dont_know_keeps_its_pointer_as_a_source_and_offers_an_it_issue():
    pointer = Citation(index=2, chunk_id="benefits:v1:00002", document_id="benefits", title="Benefits", section="Pay")
    answer = Answer(kind="dont_know",
                    text="I won't guess. The closest I found is Benefits, Pay [2], "
                         "but it may not answer your question.",
                    citations=[pointer])
    message = render(answer, "is there a bonus?")
    assert message["text"].endswith("Benefits, Pay [1], but it may not answer your question.")
    assert [(s["index"], s["document_id"]) for s in message["sources"]] == [(1, "benefits")]
    assert [b["title"] for b in message["buttons"]] == ["Report an IT issue"]


def request_tracker(user: str, text: str, intent: str) -> Tracker:
    return Tracker(user, {}, {"text": text, "intent": {"name": intent}}, [{"event": "user", "text": text}], False,
                   None, {}, "action_listen")


async def start_request(action, text: str, intent: str = "request_time_off"):
    from actions.routing import ActionStartRequest

    start = ActionStartRequest(action.services, asker=action.asker)
    dispatcher = CollectingDispatcher()
    events = await start.run(dispatcher, request_tracker("alice", text, intent), {})
    return dispatcher.messages, events


async def test_a_question_read_as_a_request_is_answered_with_a_button_to_start_it(action):
    messages, events = await start_request(action, "how many vacation days do I get after 4 years?")
    [message] = messages
    custom = message["custom"]
    assert custom["routing"] == "answered" and "27" in custom["text"].splitlines()[0]  # the row, first
    assert custom["buttons"] == [{"title": "Request time off", "payload": "/request_time_off"}]
    assert {"event": "followup", "timestamp": None, "name": "action_listen"} in events  # no form


async def test_a_question_the_documents_cannot_answer_gets_one_question_with_both_options(action):
    messages, events = await start_request(action, "is my Miro account removed when I change teams?",
                                           intent="request_access")
    [message] = messages
    custom = message["custom"]
    assert custom["routing"] == "clarified"
    assert [b["payload"] for b in custom["buttons"]] == ["/request_access", "/ask_knowledge"]
    assert {"event": "followup", "timestamp": None, "name": "action_listen"} in events


async def test_a_request_or_a_click_starts_the_form(action):
    for text in ("I need next Friday off", "/request_time_off"):
        messages, events = await start_request(action, text)
        assert messages == [] and not any(e.get("event") == "followup" for e in events), (text, events)
