"""`aios bench tracing`: what tracing costs. The same stack twice, tracing off and on (OTLP to a local
receiver, as to a collector), in alternating rounds; chat turn latency and the knowledge service's
time to first token, side by side."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.bench.chat import NLU_TURNS, deployed_stack, gateway_sender
from app.bench.knowledge.stats import pct, table
from app.bench.widget import QUESTIONS
from app.local_stack import free_port, make_settings, mint_token
from app.otlp_receiver import OtlpReceiver
from assistant.settings import Settings, TemporalSettings

log = logging.getLogger(__name__)


@dataclass
class Mode:
    name: str
    chat_ms: list[float] = field(default_factory=list)
    ttft_ms: list[float] = field(default_factory=list)
    spans: int = 0


async def measure(settings: Settings, mode: Mode, *, turns: int, questions: int) -> None:
    """Chat turns (dialogue only) and knowledge questions, one at a time, as alice."""
    token = mint_token(settings, "alice")
    async with httpx.AsyncClient(timeout=120) as http:
        send = gateway_sender(settings, http)
        for warm in NLU_TURNS[:3]:
            await send("alice", warm)
        for i in range(turns):
            t0 = time.perf_counter()
            await send("alice", NLU_TURNS[i % len(NLU_TURNS)])
            mode.chat_ms.append((time.perf_counter() - t0) * 1000)
        for i in range(questions):
            r = await http.post(f"{settings.gateway.url}/api/knowledge/ask",
                                json={"question": QUESTIONS[i % len(QUESTIONS)]},
                                headers={"Authorization": f"Bearer {token}"})
            r.raise_for_status()
            ttft = (r.json().get("timings") or {}).get("ttft_ms")
            if ttft is not None:
                mode.ttft_ms.append(float(ttft))


async def run_bench(*, rounds: int, turns: int, questions: int) -> str:
    off, on = Mode("tracing off"), Mode("tracing on (OTLP)")
    with OtlpReceiver() as receiver, tempfile.TemporaryDirectory(prefix="aios-bench-tracing-") as scratch:
        for r in range(rounds):
            for mode in (off, on) if r % 2 == 0 else (on, off):
                settings = make_settings(Path(scratch) / f"{'on' if mode is on else 'off'}-{r}").model_copy(
                    update={"temporal": TemporalSettings(task_queue="aios-bench", address=f"127.0.0.1:{free_port()}")})
                if mode is on:
                    settings.otel.exporter_otlp_traces_endpoint = f"{receiver.url}/v1/traces"
                log.info("bench.tracing.round round=%d of=%d mode=%s", r + 1, rounds, mode.name.split()[1])
                before = len(receiver.spans)
                async with deployed_stack(settings):
                    await measure(settings, mode, turns=turns, questions=questions)
                    await asyncio.sleep(6)  # the batch exporters' last round
                mode.spans += len(receiver.spans) - before
    rows = []
    for name, a, b in (("chat turn p50", off.chat_ms, on.chat_ms), ("knowledge TTFT p50", off.ttft_ms, on.ttft_ms),
                       ("chat turn p95", off.chat_ms, on.chat_ms), ("knowledge TTFT p95", off.ttft_ms, on.ttft_ms)):
        q = 50 if "p50" in name else 95
        x, y = pct(a, q), pct(b, q)
        rows.append((name, len(a), round(x, 1), round(y, 1), f"{(y / x - 1) * 100:+.1f}%"))
    out = table("Tracing overhead (ms; same machine, alternating rounds)", ("measure", "n", "off", "on", "added"),
                rows)
    return out + f"\nspans received while on: {on.spans} (off: {off.spans})"
