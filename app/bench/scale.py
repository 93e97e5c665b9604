"""`aios bench chat --scale`: what the scale-out engines buy, measured side by side in one run.

1. Rasa saturation (no think time): the same simulated users against one Rasa process, then spread
   over two (each conversation on one process, as the gateway's client does), alternating rounds.
   Both processes keep their trackers in PostgreSQL and their conversation locks in Redis.
2. Gateway latency at paced load: `aios up` on SQLite and `aios up` on PostgreSQL, both running,
   the same paced users against each in alternating rounds.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import zlib
from pathlib import Path

import httpx

from app.bench.chat import NLU_TURNS, Series, bench_directory, deployed_stack, gateway_sender, rasa_sender, run_series
from app.engines import LocalPostgres, LocalRedis
from app.local_stack import free_port, make_settings, start_actions, start_rasa
from assistant import schema
from assistant.db import make_engine
from assistant.settings import Settings, TemporalSettings


def say(text: str = "") -> None:
    print(text, flush=True)


def _merge(results: dict[str, Series], s: Series) -> None:
    prev = results.get(s.name)
    results[s.name] = s if prev is None else Series(s.name, prev.latencies + s.latencies, prev.wall + s.wall,
                                                    prev.errors + s.errors)


def _table(title: str, series: list[Series]) -> None:
    say(f"\n{title}; latencies in ms")
    say(f"{'path':<28} {'turns':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'mean':>8} {'turns/s':>9} {'errors':>6}")
    for s in series:
        say(s.row())


def balanced_senders(users: int, processes: int = 2) -> list[str]:
    """Users the gateway's client (crc32 of the sender) spreads evenly over `processes` Rasa processes."""
    by: dict[int, list[str]] = {i: [] for i in range(processes)}
    n = 0
    while sum(len(v) for v in by.values()) < users:
        name = f"scale-{n:03d}"
        bucket = by[zlib.crc32(name.encode()) % processes]
        if len(bucket) < -(-users // processes):
            bucket.append(name)
        n += 1
    return [u for group in zip(*by.values(), strict=False) for u in group][:users]


async def rasa_scaling(root: Path, pg: LocalPostgres, redis: LocalRedis, *, users: int, turns: int,
                       rounds: int) -> list[Series]:
    """1 vs 2 Rasa processes, each with its share of the cores (as the scale profile runs them), and
    next to them one process with every core (the embedded default)."""
    url = pg.create_database("bench_rasa")
    base = make_settings(root / "rasa", database_url=url)
    base.rasa.lock_store_url = redis.url(db=5)
    shared = []
    for _ in range(2):
        s = base.model_copy(deep=True)
        s.rasa.port, s.rasa.threads = free_port(), max(1, (os.cpu_count() or 2) // 2)
        shared.append(s)
    whole = base.model_copy(deep=True)
    children = [await start_actions(base)]
    try:
        children += await asyncio.gather(start_rasa(shared[0], name="rasa-1"), start_rasa(shared[1], name="rasa-2"),
                                         start_rasa(whole, name="rasa-all-cores"))
        limits = httpx.Limits(max_connections=users * 4, max_keepalive_connections=users * 4)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            one, two, alone = (rasa_sender(s, http) for s in (*shared, whole))

            async def spread(user: str, text: str) -> list:
                return await (one if zlib.crc32(user.encode()) % 2 == 0 else two)(user, text)

            senders = balanced_senders(users)
            plan = lambda i: [NLU_TURNS[(i + k) % len(NLU_TURNS)] for k in range(turns)]  # noqa: E731
            for send in (spread, alone):
                await run_series("warmup", send, senders, lambda i: ["hello", "hello"], 0)
            results: dict[str, Series] = {}
            for _ in range(rounds):
                _merge(results, await run_series("1 Rasa process", one, senders, plan, 0))
                _merge(results, await run_series("2 Rasa processes", spread, senders, plan, 0))
                _merge(results, await run_series("1 process, every core", alone, senders, plan, 0))
    finally:
        for child in children:
            child.stop()
    return list(results.values())


async def database_latency(root: Path, pg: LocalPostgres, *, users: int, turns: int, think: float,
                           rounds: int) -> list[Series]:
    stacks: dict[str, Settings] = {}
    for name, url in (("SQLite", ""), ("PostgreSQL", pg.create_database("bench_gateway"))):
        var = root / name.lower()
        var.mkdir()
        ids = bench_directory(var / "directory.yml", users)
        s = make_settings(var, directory_path=var / "directory.yml").model_copy(update={
            "temporal": TemporalSettings(task_queue=f"aios-bench-{name.lower()}", address=f"127.0.0.1:{free_port()}")})
        if url:
            s.core.database_url = url
            engine = make_engine(url)
            for area in ("core", "knowledge"):
                schema.upgrade(engine, area)
            engine.dispose()
        stacks[name] = s
    say("Starting `aios up` twice (SQLite and PostgreSQL) ...")
    async with deployed_stack(stacks["SQLite"]), deployed_stack(stacks["PostgreSQL"]):
        async with httpx.AsyncClient(timeout=120) as http:
            senders = {name: gateway_sender(s, http) for name, s in stacks.items()}
            plan = lambda i: [NLU_TURNS[(i + k) % len(NLU_TURNS)] for k in range(turns)]  # noqa: E731
            for send in senders.values():
                await run_series("warmup", send, ids, lambda i: ["hello"], 0)
            results: dict[str, Series] = {}
            for _ in range(rounds):
                for name, send in senders.items():
                    _merge(results, await run_series(f"gateway on {name}", send, ids, plan, think))
    return list(results.values())


async def run_scale_bench(*, users: int, turns: int, think: float, rounds: int = 2) -> None:
    with tempfile.TemporaryDirectory(prefix="aios-bench-scale-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)  # PostgreSQL's user must reach its data directory
        pg, redis = LocalPostgres(root / "postgres"), LocalRedis(root / "redis")
        await asyncio.to_thread(pg.start)
        await asyncio.to_thread(redis.start)
        try:
            rasa = {s.name: s for s in await rasa_scaling(root, pg, redis, users=users, turns=turns, rounds=rounds)}
            _table(f"Rasa saturation: {users} users, no think time, {rounds} alternating rounds", list(rasa.values()))
            gain = rasa["2 Rasa processes"].throughput / rasa["1 Rasa process"].throughput
            over_default = rasa["2 Rasa processes"].throughput / rasa["1 process, every core"].throughput
            say(f"2 / 1 Rasa processes: throughput {gain:.2f}x "
                f"({over_default:.2f}x one process on every core)")
            paced = think or 2.0
            db = {s.name: s for s in await database_latency(root, pg, users=users, turns=turns, think=paced,
                                                             rounds=rounds)}
            _table(f"Gateway at {users} paced users (think {paced:g} s mean), {rounds} alternating rounds",
                   list(db.values()))
            ratio = db["gateway on PostgreSQL"].pct(95) / db["gateway on SQLite"].pct(95)
            say(f"PostgreSQL / SQLite gateway p95: {ratio:.2f}")
        finally:
            await asyncio.to_thread(redis.stop)
            await asyncio.to_thread(pg.stop)
