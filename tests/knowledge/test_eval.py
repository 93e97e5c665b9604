"""`aios eval knowledge` on a small set: the metrics are computed from real retrieval and answers."""

from __future__ import annotations

import yaml

from knowledge.evaluation import load_eval_set, run_eval
from tests.knowledge.conftest import HANDBOOK

QUESTIONS = {
    "documents": str(HANDBOOK),
    "questions": [
        {"q": "how long must my password be?", "document": "information-security", "facts": ["14"]},
        {"q": "what are the IT support hours", "document": "it-support", "facts": ["08:00", "18:00"]},
        {"q": "can I bring my dog to work?", "answerable": False},
        {"q": "how much is the on-call allowance?", "user": "dave", "answerable": False,
         "forbidden": "engineering-on-call"},
    ],
}


def test_eval_reports_retrieval_and_answer_metrics(tmp_path, knowledge_base_settings):
    path = tmp_path / "eval.yml"
    path.write_text(yaml.safe_dump(QUESTIONS))
    report = run_eval(knowledge_base_settings, load_eval_set(path), answers=True)
    assert report.recall_at(1) == report.recall_at(5) == report.mrr() == 1.0
    assert report.forbidden_citations() == 0
    assert report.citation_validity() == 1.0
    assert report.dont_know_rate() == 1.0 and report.false_dont_know_rate() == 0.0
    assert 0.0 <= report.fact_containment() <= 1.0
    summary = report.summary()
    assert "recall@5" in summary and "fact containment" in summary and "don't-know rate" in summary


def test_pointers_of_declined_answerable_questions_are_counted():
    from knowledge.evaluation.dataset import EvalQuestion
    from knowledge.evaluation.report import EvalReport, Outcome

    def q(doc):
        return EvalQuestion(question="?", user="alice", document=doc, facts=(), answerable=True, forbidden=None)

    outcomes = [Outcome(q("a"), ["a"], kind="dont_know", pointed_to="a"),
                Outcome(q("b"), ["c"], kind="dont_know", pointed_to="c"),
                Outcome(q("d"), [], kind="dont_know"),
                Outcome(q("e"), ["e"], kind="answer")]
    report = EvalReport(outcomes, answered=True)
    assert report.pointers() == (3, 2, 1)
    assert "pointed to a closest match 2 of 3, the expected document 1" in report.summary()
