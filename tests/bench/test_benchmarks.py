"""The benchmarks run end to end on tiny sizes: their figures are measured, not targets checked here
(performance targets are checked by running the benchmarks themselves; see the README)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from assistant.settings import PROJECT_DIR


def aios(*args: str, timeout: float) -> str:
    result = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def row(output: str, name: str) -> list[float]:
    line = next(line for line in output.splitlines() if line.startswith(name))
    return [float(x) for x in line[len(name):].split()]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_chat_bench_measures_gateway_and_rasa_side_by_side():
    out = aios("bench", "chat", "--users", "2", "--turns", "3", "--forms", "1", "--think", "0", timeout=850)
    for path in ("gateway, NLU-only", "rasa webhook, NLU-only", "gateway, time-off form",
                 "rasa webhook, time-off form"):
        turns, p50, p95, p99, mean, rate, errors = row(out, path)
        assert errors == 0 and 0 < p50 <= p95 <= p99 and rate > 0, out
    assert row(out, "gateway, NLU-only")[0] == 2 * 3 * 2  # users x turns x rounds, none lost
    assert row(out, "gateway, time-off form")[0] == 2 * 5 * 2
    assert re.search(r"gateway/rasa ratio, NLU-only: p50 \d+\.\d\d, p95 \d+\.\d\d", out), out


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_approvals_bench_times_click_to_resumed_and_notified(tmp_path):
    report = tmp_path / "approvals.json"
    out = aios("bench", "approvals", "-n", "3", "--warmup", "1", "--json", str(report), timeout=550)
    figures = json.loads(report.read_text())
    assert figures["requests"] == 3
    assert 0 < figures["click_to_resumed_ms_p50"] <= figures["click_to_resumed_ms_max"]
    assert 0 < figures["click_to_notified_ms_p50"] <= figures["click_to_notified_ms_max"]
    assert "click -> requester notified" in out


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_knowledge_bench_reports_generation_ingestion_and_queries():
    out = aios("bench", "knowledge", "--scales", "300", "--queries", "5", "--answers", "2", timeout=850)
    assert re.search(r"service / direct generation speed: \d+\.\d+", out), out
    assert "== Ingestion" in out and "== Query latency" in out
    # llama-server's slots against one in-process stream, measured side by side.
    served = next(line for line in out.splitlines() if line.strip().startswith("llama-server, 4 slots"))
    tokens_per_s, ttft_p50, ttft_p95, ratio = (float(x) for x in served.split()[-4:])
    assert tokens_per_s > 0 and 0 < ttft_p50 <= ttft_p95 and ratio > 0, out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("chunks  p50"))
    # The store already holds the ingestion run's chunks, so the smallest scale is at least those.
    chunks, p50, p95, http_p50, http_p95, load = (float(x) for x in lines[header + 1].split())
    assert chunks >= 300
    assert 0 < p50 <= p95 and 0 < http_p50 <= http_p95, out


async def test_widget_bench_measures_the_browser_next_to_the_service(stack):
    """On the shared stack, two questions: every figure measured, the browser's wait at least the
    service's own (it contains it)."""
    import asyncio

    from app.bench.widget import QUESTIONS, measure

    await stack.reset_conversation("alice")
    report = await asyncio.to_thread(measure, stack.url, stack.token("alice"), QUESTIONS[:2])
    assert len(report.first_ms) == len(report.done_ms) == len(report.service_ttft_ms) == 2, report
    for first, done, ttft in zip(report.first_ms, report.done_ms, report.service_ttft_ms, strict=True):
        assert 0 < first <= done and ttft > 0, report
    assert min(report.done_ms) >= min(report.service_total_ms), report
    assert "browser: Enter -> first words" in report.summary()
