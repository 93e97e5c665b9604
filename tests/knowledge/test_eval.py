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
    assert report.right_document_rate() == 1.0  # both answered, each citing its own document
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
                Outcome(q("e"), ["e"], kind="answer", cited=["e"])]
    report = EvalReport(outcomes, answered=True)
    assert report.pointers() == (3, 2, 1)
    assert report.right_document_rate() == 1 / 4  # a pointer is not an answer that cites
    assert "pointed to a closest match 2 of 3, the expected document 1" in report.summary()


def test_the_model_is_chosen_listed_and_compared(tmp_path, knowledge_base_settings, monkeypatch):
    """`aios model use/list` and `aios eval knowledge --model`, with the shipped model."""
    from typer.testing import CliRunner

    from app.cli import app
    from knowledge.models_catalog import available

    shipped = knowledge_base_settings.knowledge.gguf_path()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIOS_KNOWLEDGE_MODEL_PATH", raising=False)
    (tmp_path / ".env").write_text("AIOS_MODE=dev\nAIOS_KNOWLEDGE_MODEL_PATH=/old/model.gguf\n")
    runner = CliRunner()
    out = runner.invoke(app, ["model", "use", str(shipped)])
    assert out.exit_code == 0, out.output
    assert (tmp_path / ".env").read_text() == f"AIOS_MODE=dev\nAIOS_KNOWLEDGE_MODEL_PATH={shipped.resolve()}\n"
    not_a_model = tmp_path / "notes.gguf"
    not_a_model.write_text("hello")
    assert runner.invoke(app, ["model", "use", str(not_a_model)]).exit_code != 0

    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "copy.gguf").symlink_to(shipped)
    listed = available(knowledge_base_settings.knowledge, models_dir)
    assert [m.in_use for m in listed if m.path == shipped.resolve()] == [True]

    path = tmp_path / "eval.yml"
    path.write_text(yaml.safe_dump({**QUESTIONS, "questions": QUESTIONS["questions"][:1]}))
    out = runner.invoke(app, ["eval", "knowledge", "--questions", str(path), "--model", str(shipped)])
    assert out.exit_code == 0, out.output
    assert f"answer model              {shipped.name}" in out.output
