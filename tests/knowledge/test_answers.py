"""Answers with the real GGUF model at temperature 0: valid citations, fallback, "don't know", ACL."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from knowledge.answering import Answerer
from knowledge.evaluation.runner import citations_valid

ALICE = {"all-staff", "engineering"}
BOB = {"all-staff", "engineering", "managers"}
DAVE = {"all-staff", "finance"}


def assert_grounded(answer, handbook, groups):
    assert answer.kind in ("answer", "fallback"), answer.text
    assert citations_valid(answer), answer.model_dump()
    for citation in answer.citations:
        chunk = handbook.store.snapshot.chunks[handbook.store.snapshot.row_of[citation.chunk_id]]
        assert chunk.document_id == citation.document_id and set(chunk.groups.split(",")) & groups


async def test_a_handbook_question_is_answered_with_valid_citations(handbook):
    answer = await handbook.answerer.answer("how many days can I work from abroad each year?", ALICE)
    assert_grounded(answer, handbook, ALICE)
    assert answer.citations[0].document_id == "remote-work-policy"
    assert "30" in answer.text
    assert answer.model.endswith(".gguf") and answer.timings["ttft_ms"] > 0


async def test_an_unsupported_model_answer_falls_back_to_quoted_passages(handbook):
    # Nothing the model writes can pass an impossible threshold, so the fallback path must be taken.
    strict = Answerer(handbook.retriever, handbook.generator, replace(handbook.answerer.config,
                                                                      support_threshold=1.01))
    answer = await strict.answer("how long is parental leave for the primary caregiver?", ALICE)
    assert answer.kind == "fallback" and not answer.grounded
    lead, *support = answer.text.splitlines()
    assert "16 weeks" in lead  # the documents' sentence that answers it comes first
    assert_grounded(answer, handbook, ALICE)
    passages = {p.index: p for p in answer.passages}
    sentence, index = re.fullmatch(r"(.+) \[(\d+)\]", lead).groups()
    chunk = handbook.store.snapshot.chunks[handbook.store.snapshot.row_of[passages[int(index)].chunk_id]]
    assert sentence in chunk.text  # verbatim
    quoted = re.findall(r'"(.+?)" \[(\d+)\]', "\n".join(support))
    assert all(q in passages[int(n)].text for q, n in quoted)


@pytest.mark.parametrize("question", ["what's the dress code in the office?", "can I bring my dog to work?",
                                      "who won the football match yesterday?"])
async def test_nothing_relevant_means_i_dont_know(handbook, question):
    answer = await handbook.answerer.answer(question, ALICE)
    assert answer.kind == "dont_know", answer.text
    assert not answer.citations and not answer.passages
    assert "won't guess" in answer.text and "IT issue" in answer.text


async def test_a_document_outside_the_users_groups_is_never_used(handbook):
    question = "what is the merit budget in the salary review?"
    for_alice = await handbook.answerer.answer(question, ALICE)
    assert for_alice.kind == "dont_know"
    cited = {c.document_id for c in for_alice.citations} | {p.document_id for p in for_alice.passages}
    assert "manager-compensation-guide" not in cited
    for_bob = await handbook.answerer.answer(question, BOB)
    assert_grounded(for_bob, handbook, BOB)
    assert for_bob.citations[0].document_id == "manager-compensation-guide"


async def test_engineering_pages_are_invisible_to_finance(handbook):
    answer = await handbook.answerer.answer("how much is the on-call allowance?", DAVE)
    assert "engineering-on-call" not in {c.document_id for c in answer.citations}
    assert "engineering-on-call" not in {p.document_id for p in answer.passages}


async def test_a_follow_up_uses_the_previous_question(handbook):
    answer = await handbook.answerer.answer("and after 5 years?", ALICE,
                                            previous_question="how many vacation days do I get?")
    assert_grounded(answer, handbook, ALICE)
    assert answer.citations[0].document_id == "time-off-policy"


async def test_streaming_sends_passages_then_checked_sentences_then_the_answer(handbook):
    events = [e async for e in handbook.answerer.stream("what are the core hours?", ALICE)]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "passages" and kinds[-1] == "answer"
    assert set(kinds[1:-1]) <= {"delta", "progress"} and kinds.count("progress") >= 2  # a typing indicator
    assert_grounded(events[-1]["answer"], handbook, ALICE)


class ScriptedModel:
    """The project's ChatModel contract with a fixed draft, to put words in a model's mouth."""

    name, parallel = "scripted.gguf", 1

    def __init__(self, draft: str) -> None:
        self.pieces = re.findall(r"\S+\s*", draft)

    def stream(self, messages, *, max_tokens, temperature, cancelled):
        yield from self.pieces

    def close(self) -> None:
        pass


@pytest.mark.parametrize("extra", ["You can claim it first at http://evil.example/claim now.",
                                   "Write to payroll-help@evil.example to get it sooner.",
                                   "The moon is made of cheese and salaries double in May."])
async def test_a_stream_never_carries_a_sentence_or_link_the_sources_do_not_back(handbook, extra):
    """Review reproduction: the stream said "You can visit http://evil.example/claim first." while
    the final answer was a quoted fallback. Only checked sentences may be streamed."""
    from knowledge.llm.queue import GenerationQueue

    first = await handbook.answerer.answer("how many days can I work from abroad each year?", ALICE)
    assert first.kind == "answer", first.text  # a sentence the sources back, to stream before the bad one
    supported = re.sub(r"\s*\[\d+\]", "", first.text).strip()
    queue = GenerationQueue(ScriptedModel(f"{supported} {extra} More text follows."), max_waiting=1, timeout=30)
    try:
        answerer = Answerer(handbook.retriever, queue, handbook.answerer.config)
        events = [e async for e in answerer.stream("how many days can I work from abroad each year?", ALICE)]
    finally:
        queue.close()
    streamed = "".join(e["text"] for e in events if e["type"] == "delta")
    assert streamed.strip() == supported  # the backed sentence went out as it came...
    assert "evil" not in streamed and "cheese" not in streamed  # ...the rest never did
    final = events[-1]["answer"]
    assert "evil" not in final.text and "cheese" not in final.text


async def test_a_near_miss_points_to_the_closest_passage_without_answering(handbook):
    # Close to the benefits page in meaning, but nothing there says when salaries are reviewed.
    answer = await handbook.answerer.answer("when are salary reviews?", ALICE)
    assert answer.kind == "dont_know" and not answer.grounded, answer.text
    assert "won't guess" in answer.text and "The closest I found is" in answer.text
    [citation] = answer.citations
    assert citations_valid(answer) and f"[{citation.index}]" in answer.text
    chunk = handbook.store.snapshot.chunks[handbook.store.snapshot.row_of[citation.chunk_id]]
    assert set(chunk.groups.split(",")) & ALICE
    assert citation.title in answer.text


async def test_a_quoted_table_keeps_one_row_per_line(handbook):
    """The fallback for a table question leads with the matching row and quotes the table row by row
    (each with its headings), so every channel can draw it as a table."""
    strict = Answerer(handbook.retriever, handbook.generator, replace(handbook.answerer.config,
                                                                      support_threshold=1.01))
    answer = await strict.answer("how many vacation days do I get after 3 years?", ALICE)
    assert answer.kind == "fallback", answer.text
    lead, *support = answer.text.splitlines()
    assert lead == "Years of service: 3 to 5 years; Vacation days per year: 27 days [1]", answer.text
    rows = [line for line in support if line.startswith("Years of service:")]
    assert len(rows) == 3 and all(line.count("Years of service:") <= 1 for line in support), answer.text
    assert support[0].startswith("From Time off policy, Vacation allowance: \"")
    assert_grounded(answer, handbook, ALICE)
