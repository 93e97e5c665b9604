"""The knowledge benchmarks, in one run so that ratios compare like with like."""

from __future__ import annotations

import json
import logging
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from app.bench.knowledge import synthetic
from app.bench.knowledge.concurrent import concurrent_answers
from app.bench.knowledge.stats import median, pct, table
from app.local_stack import free_port, make_settings, start_knowledge
from app.serving import serve_in_loop
from assistant.directory import Directory
from assistant.errors import ConfigurationError
from assistant.settings import Settings
from assistant.settings.knowledge import service_token
from knowledge.answering.prompt import build_messages
from knowledge.evaluation import load_eval_set
from knowledge.folder import collect
from knowledge.models import DocumentInfo, Passage
from knowledge.registry import now
from knowledge.runtime import KnowledgeRuntime
from knowledge.service import create_app

log = logging.getLogger(__name__)


def say(text: str = "") -> None:
    print(text, flush=True)


async def run_bench(settings: Settings, *, scales: list[int], queries: int, answers: int,
                    llama_bench: Path | None, concurrent: int = 4) -> None:
    say(f"AIOS knowledge benchmark - {platform.processor() or platform.machine()}, "
        f"{settings.knowledge.threads()} llama.cpp threads, model {settings.knowledge.gguf_path().name}")
    questions = [q for q in load_eval_set(settings.core.data_dir / "eval" / "knowledge.yml").questions
                 if q.answerable]
    with tempfile.TemporaryDirectory(prefix="aios-bench-") as tmp:
        root = Path(tmp)
        # The model first, while this process holds no store whose background work could slow it.
        if answers > 0:
            say(await _generation(settings, [q.question for q in questions][:answers], root / "service"))
        if concurrent > 0:
            (root / "llama-server").mkdir()
            say(await concurrent_answers(settings, root / "llama-server", concurrency=concurrent))
        knowledge = settings.knowledge.model_copy(update={"store_dir": root / "store", "chroma_url": None})
        runtime = KnowledgeRuntime.open(knowledge, root, with_model=False)
        try:
            say(_ingestion(runtime, settings))
            say(await _queries(runtime, settings, [q.question for q in questions], scales, queries, root))
        finally:
            runtime.close()
    if llama_bench is not None:
        say(_native(llama_bench, settings))


# --- ingestion -----------------------------------------------------------------------------------

def _ingestion(runtime: KnowledgeRuntime, settings: Settings) -> str:
    handbook = collect([settings.core.data_dir / "knowledge"])
    files = [(d.path.name, d.path.read_bytes(), d.groups) for d in handbook]
    # More text than the handbook: each document 8 more times under other names (real parsing,
    # chunking and embedding of every copy; a copy is a different document id, not a no-op).
    for n in range(8):
        files += [(f"copy{n}-{name}", data, groups) for name, data, groups in files[:len(handbook)]]
    t0 = time.perf_counter()
    chunks = 0
    for name, data, groups in files:
        chunks += runtime.store.ingest(name, data, actor="bench", groups=list(groups) if groups else None).chunks
    seconds = time.perf_counter() - t0
    texts = [c.text for c in runtime.store.snapshot.chunks[:512]]
    t1 = time.perf_counter()
    runtime.embedder.embed(texts)
    embed_rate = len(texts) / (time.perf_counter() - t1)
    return table("\n== Ingestion (parse, chunk, embed in batches, store; files of every format)",
                 ["files", "chunks", "seconds", "chunks/s", "embedding only, chunks/s"],
                 [[len(files), chunks, seconds, chunks / seconds, embed_rate]])


# --- retrieval ----------------------------------------------------------------------------------

async def _queries(runtime: KnowledgeRuntime, settings: Settings, questions: list[str], scales: list[int],
                   per_scale: int, root: Path) -> str:
    groups = Directory.load(settings.core.directory_file).get("alice").groups
    pool = synthetic.pool_vectors(runtime.embedder)
    rows = []
    loaded = len(runtime.store.snapshot.chunks)
    bench_settings = make_settings(root / "http")
    bench_settings.knowledge.port = free_port()
    for scale in sorted(scales):
        if scale > loaded:
            t0 = time.perf_counter()
            _load_synthetic(runtime, pool, loaded, scale - loaded)
            load_s = time.perf_counter() - t0
            loaded = len(runtime.store.snapshot.chunks)
        else:
            load_s = 0.0
        for q in questions[:5]:  # warm caches of this scale
            runtime.retriever.search(q, groups)
        direct = []
        for n in range(per_scale):
            t = time.perf_counter()
            runtime.retriever.search(questions[n % len(questions)], groups, k=5)
            direct.append((time.perf_counter() - t) * 1000)
        over_http = await _http_queries(runtime, bench_settings, questions, groups, per_scale)
        rows.append([loaded, pct(direct, 50), pct(direct, 95), pct(over_http, 50), pct(over_http, 95), load_s])
    return table("\n== Query latency, ms (hybrid search for alice: query embedding + Chroma + BM25 + fusion)",
                 ["chunks", "p50", "p95", "HTTP p50", "HTTP p95", "load s"], rows)


def _load_synthetic(runtime: KnowledgeRuntime, pool: np.ndarray, start: int, count: int) -> None:
    batch = 20_000
    for offset in range(start, start + count, batch):
        n = min(batch, start + count - offset)
        pairs = list(synthetic.chunks(offset, n, pool))
        chunks = [c for c, _ in pairs]
        vectors = np.stack([v for _, v in pairs])
        stamp = now()
        docs = {c.document_id: DocumentInfo(
            id=c.document_id, title=c.title, filename=f"{c.document_id}.md", media_type="text/markdown",
            groups=c.groups.split(","), version=1, sha256="0" * 64, content_sha256="0" * 64, size=0,
            chunks=sum(1 for x in chunks if x.document_id == c.document_id), created_at=stamp, created_by="bench",
            updated_at=stamp, updated_by="bench") for c in chunks}
        runtime.store.import_chunks(list(docs.values()), chunks, vectors, reload=False)
        log.info("bench.synthetic.added chunks=%d", offset + n)
    runtime.store.load()


async def _http_queries(runtime: KnowledgeRuntime, settings: Settings, questions: list[str], groups: frozenset[str],
                        count: int) -> list[float]:
    """The same searches through the service's HTTP API (what the gateway pays per search)."""
    app = create_app(settings, runtime=runtime)
    headers = {"X-AIOS-Knowledge-Token": service_token(settings.core.secret_key.get_secret_value())}
    out: list[float] = []
    async with serve_in_loop(app, settings.knowledge.host, settings.knowledge.port):
        async with httpx.AsyncClient(base_url=settings.knowledge.url, headers=headers, timeout=60) as http:
            for n in range(count):
                body = {"query": questions[n % len(questions)], "groups": sorted(groups), "k": 5}
                t = time.perf_counter()
                response = await http.post("/v1/search", json=body)
                out.append((time.perf_counter() - t) * 1000)
                response.raise_for_status()
    return out


# --- generation ---------------------------------------------------------------------------------

async def _generation(settings: Settings, questions: list[str], var_dir: Path) -> str:
    """TTFT and tokens/s through the service (real process, real HTTP, streaming) and, interleaved
    question by question, the same prompt on the same model driven directly with llama-cpp-python."""
    import llama_cpp

    from knowledge.llm.gpu import gpu_layers

    service_settings = make_settings(var_dir)
    service_settings.knowledge = settings.knowledge.model_copy(
        update={"port": free_port(), "store_dir": None, "chroma_url": None})
    child = await start_knowledge(service_settings)
    k = settings.knowledge
    direct = llama_cpp.Llama(model_path=str(k.gguf_path()), n_ctx=k.n_ctx, n_threads=k.threads(),
                             n_threads_batch=k.threads(), n_batch=k.n_batch, n_gpu_layers=gpu_layers(),
                             seed=k.seed, verbose=False)
    groups = sorted(Directory.load(settings.core.directory_file).get("alice").groups)
    service_rows: list[tuple[float, float, int]] = []
    direct_rows: list[tuple[float, float, int]] = []
    try:
        headers = {"X-AIOS-Knowledge-Token": service_token(service_settings.core.secret_key.get_secret_value())}
        async with httpx.AsyncClient(base_url=service_settings.knowledge.url, headers=headers, timeout=300) as http:
            for question in questions:
                measured = await _through_service(http, question, groups)
                if measured is None:
                    continue  # "I don't know": nothing generated
                timing, passages = measured
                service_rows.append(timing)
                messages = build_messages(question, passages[:k.prompt_passages])
                direct_rows.append(_direct(direct, messages, k.max_answer_tokens, k.temperature))
    finally:
        child.stop()
        direct.close()
    if not service_rows:
        raise ConfigurationError("no question produced a generated answer; nothing to measure")

    def rate(rows: list[tuple[float, float, int]]) -> float:
        tokens = sum(n - 1 for _, _, n in rows if n > 1)
        seconds = sum(gen for _, gen, n in rows if n > 1)
        return tokens / seconds if seconds else float("nan")

    s_rate, d_rate = rate(service_rows), rate(direct_rows)
    rows = [
        ["service (HTTP, streamed)", median([t for t, _, _ in service_rows]) * 1000,
         pct([t for t, _, _ in service_rows], 95) * 1000, s_rate, len(service_rows)],
        ["direct llama-cpp-python", median([t for t, _, _ in direct_rows]) * 1000,
         pct([t for t, _, _ in direct_rows], 95) * 1000, d_rate, len(direct_rows)],
    ]
    out = table("\n== Answer model (same prompts, interleaved; TTFT of the service includes retrieval)",
                ["path", "TTFT p50 ms", "TTFT p95 ms", "gen tokens/s", "answers"], rows)
    return out + f"\nservice / direct generation speed: {s_rate / d_rate:.3f}"


async def _through_service(http: httpx.AsyncClient, question: str,
                           groups: list[str]) -> tuple[tuple[float, float, int], list[Passage]] | None:
    t0 = time.perf_counter()
    first = last = None
    pieces = 0
    passages: list[Passage] = []
    async with http.stream("POST", "/v1/answer", json={"question": question, "groups": groups,
                                                       "stream": True}) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line:
                continue
            event = json.loads(line)
            if event["type"] == "passages":
                passages = [Passage.model_validate(p) for p in event["passages"]]
            elif event["type"] == "progress":  # one per generated piece (text comes checked, later)
                last = time.perf_counter()
                first = first or last
                pieces += 1
    if first is None or last is None:
        return None
    return (first - t0, last - first, pieces), passages


def _direct(llama, messages, max_tokens: int, temperature: float) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    first = last = None
    pieces = 0
    for chunk in llama.create_chat_completion(messages=messages, stream=True, max_tokens=max_tokens,
                                              temperature=temperature, top_k=1 if temperature == 0 else 40):
        if chunk["choices"][0]["delta"].get("content"):
            last = time.perf_counter()
            first = first or last
            pieces += 1
    if first is None or last is None:
        return (time.perf_counter() - t0, 0.0, 0)
    return first - t0, last - first, pieces


# --- llama.cpp's own llama-bench ----------------------------------------------------------------

def _native(binary: Path, settings: Settings) -> str:
    """llama-bench (built from the llama.cpp sources in the llama-cpp-python sdist) on the same model."""
    k = settings.knowledge
    cmd = [str(binary), "-m", str(k.gguf_path()), "-t", str(k.threads()), "-p", "256", "-n", "64", "-r", "3",
           "-o", "json"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigurationError(f"llama-bench failed: {exc}") from exc
    rows = []
    for test in json.loads(result.stdout):
        kind = "prompt (pp256)" if test.get("n_prompt") else "generation (tg64)"
        rows.append([kind, float(test["avg_ts"]), float(test["stddev_ts"])])
    return table("\n== llama-bench (native llama.cpp, same model and threads)", ["test", "tokens/s", "stddev"], rows)

