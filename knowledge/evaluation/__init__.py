"""`aios eval knowledge`: retrieval and answer quality on a question set."""

from __future__ import annotations

from knowledge.evaluation.dataset import EvalQuestion, EvalSet, load_eval_set
from knowledge.evaluation.report import EvalReport
from knowledge.evaluation.runner import run_eval

__all__ = ["EvalQuestion", "EvalReport", "EvalSet", "load_eval_set", "run_eval"]
