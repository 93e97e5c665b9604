"""The knowledge service's /metrics: behind its service token, and a question moves the answer metrics."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from assistant.settings.knowledge import service_token


def samples(text: str) -> dict[str, float]:
    """Every sample's value summed over its labels, by sample name (`..._count`, `..._total`...)."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[s.name] = found.get(s.name, 0.0) + s.value
    return found


async def test_a_question_moves_the_ttft_queue_and_outcome_metrics(stack):
    s = stack.settings
    url = f"{s.knowledge.url}/metrics"
    async with httpx.AsyncClient(timeout=60) as http:
        assert (await http.get(url)).status_code == 401
        assert (await http.get(url, headers={"Authorization": "Bearer not-the-token"})).status_code == 401
        token = {"Authorization": f"Bearer {service_token(s.core.secret_key.get_secret_value())}"}

        async def scrape() -> dict[str, float]:
            r = await http.get(url, headers=token)
            assert r.status_code == 200, r.text
            return samples(r.text)

        before = await scrape()
        async with stack.client("alice") as alice:
            question = "How many vacation days do I get after 3 years?"
            r = await alice.post("/api/knowledge/ask", json={"question": question})
        assert r.status_code == 200, r.text
        after = await scrape()

    def moved(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert moved("aios_knowledge_retrieval_seconds_count") == 1
    assert moved("aios_llm_queue_wait_seconds_count") == 1  # the question reached the model
    assert moved("aios_llm_time_to_first_token_seconds_count") == 1
    assert moved("aios_llm_generated_tokens_total") >= 1
    assert moved("aios_knowledge_answers_total") == 1
    assert moved("aios_knowledge_answer_seconds_count") == 1
    assert after["aios_llm_queue_capacity"] >= 1 and after["aios_llm_queue_depth"] == 0  # nothing left waiting
