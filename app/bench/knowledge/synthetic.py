"""Synthetic chunks for scale: handbook-like sentences, and vectors near real embeddings.

Embedding 100k chunks would take ~5 minutes on 2 cores and measures nothing the ingestion benchmark
does not; instead a pool of real embeddings is perturbed, so the index has realistic structure.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np

from knowledge.embeddings import Embedder
from knowledge.models import Chunk

TOPICS = ["vacation", "expense", "laptop", "VPN", "password", "parking", "travel", "hotel", "payroll", "benefits",
          "onboarding", "security", "printer", "badge", "meeting room", "coffee", "training", "insurance",
          "pension", "bonus", "contract", "visa", "relocation", "equipment", "software", "licence", "office",
          "wellbeing", "gym", "referral", "recruiting", "holiday", "overtime", "shift", "on-call", "incident"]
VERBS = ["request", "approve", "submit", "renew", "cancel", "report", "book", "return", "update", "check"]
WHO = ["your manager", "People Ops", "the IT team", "finance", "the travel desk", "the security team"]
ACLS = [("all-staff", 0.7), ("engineering", 0.15), ("managers", 0.1), ("finance", 0.05)]


def sentence(rng: random.Random) -> str:
    topic, verb, who = rng.choice(TOPICS), rng.choice(VERBS), rng.choice(WHO)
    n = rng.randint(1, 60)
    return (f"To {verb} a {topic} item, ask {who} at least {n} days in advance; "
            f"{rng.choice(TOPICS)} rules for {rng.choice(TOPICS)} apply after {rng.randint(1, 12)} months.")


def texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(sentence(rng) for _ in range(rng.randint(3, 6))) for _ in range(count)]


def pool_vectors(embedder: Embedder, size: int = 1500) -> np.ndarray:
    return embedder.embed(texts(size, seed=7))


def chunks(start: int, count: int, pool: np.ndarray, *, per_document: int = 50,
           seed: int = 11) -> Iterator[tuple[Chunk, np.ndarray]]:
    """Chunks `start`..`start+count` of synthetic documents, with their vectors."""
    rng = random.Random(seed + start)
    np_rng = np.random.default_rng(seed + start)
    bodies = texts(count, seed=seed + start)
    for n, body in zip(range(start, start + count), bodies, strict=True):
        doc = n // per_document
        acl_rng = random.Random(doc)
        acl = acl_rng.choices([a for a, _ in ACLS], weights=[w for _, w in ACLS])[0]
        vector = pool[rng.randrange(len(pool))] + np_rng.normal(0, 0.02, size=(pool.shape[1],)).astype(np.float32)
        vector /= np.linalg.norm(vector)
        yield Chunk(id=f"synthetic-{doc:05d}:v1:{n % per_document:05d}", document_id=f"synthetic-{doc:05d}",
                    version=1, title=f"Synthetic policy {doc}", section=rng.choice(TOPICS).capitalize(),
                    headings="", position=n % per_document, text=body, content_hash=f"{n:016x}",
                    groups=acl), vector
