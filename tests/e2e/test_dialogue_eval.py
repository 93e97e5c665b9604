"""`aios eval dialogue`'s replay on the real stack: each outcome is read from what really happened."""

from __future__ import annotations

from app.dialogue_eval import Case, replay

CASES = [
    Case(id="k1", user="alice", message="how many days can I work from abroad each year?", expect="knowledge",
         answerable=True, document="remote-work-policy.md", fact="30"),
    Case(id="f1", user="alice", message="I need write access to GitHub", expect="form"),
    Case(id="o1", user="bob", message="hi", expect="other"),
]


async def test_replay_reads_routes_answers_and_documents(stack):
    report = await replay(stack, CASES)
    by_id = {o.case.id: o for o in report.outcomes}
    assert [by_id[i].route for i in ("k1", "f1", "o1")] == ["knowledge", "form", "other"], report.summary()
    assert by_id["k1"].answer_kind in ("answer", "fallback") and by_id["k1"].right_document
    assert by_id["k1"].fact_found, by_id["k1"].text
    assert report.figures()["routing_accuracy"] == 1.0
