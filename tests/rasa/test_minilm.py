"""The Rasa environment's NumPy MiniLM computes what sentence-transformers computes (same files)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from app.rasa_server import ADDONS_DIR
from assistant.settings.knowledge import KnowledgeSettings

sys.path.insert(0, str(ADDONS_DIR))
from aios_rasa.minilm import MiniLM

TEXTS = ["how many vacation days do I get after 3 years?", "I need write access to GitHub",
         "Can I expense a 60 EUR headset? (I lost the receipt…)", "Café résumé naïve", "wifi", ""]


@pytest.fixture(scope="module")
def models():
    from sentence_transformers import SentenceTransformer

    path = KnowledgeSettings().embedding_path()
    return MiniLM(path), SentenceTransformer(str(path), device="cpu")


def test_sentence_vectors_match_sentence_transformers(models):
    ours, reference = models
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    for text, vector in zip(TEXTS, expected, strict=True):
        assert float(np.dot(ours.encode(text), vector)) > 0.9999, text


def test_one_vector_per_token_and_the_same_sentence_vector(models):
    ours, _ = models
    tokens = ["I", "need", "write", "access", "to", "GitHub"]
    per_token, sentence = ours.encode_tokens(tokens)
    assert per_token.shape == (6, 384) and np.all(np.abs(per_token).sum(1) > 0)
    assert float(np.dot(sentence, ours.encode(" ".join(tokens)))) > 0.9999
