"""Grounded answers: passages as untrusted data, the model's answer checked against them."""

from __future__ import annotations

from knowledge.answering.answerer import AnswerConfig, Answerer

__all__ = ["AnswerConfig", "Answerer"]
