"""`aios bench chat`: concurrent simulated users through the gateway and, in the same run,
the same turns sent straight to Rasa's REST webhook (the ratio is what the gateway adds).

The assistant runs as `aios up` runs it (every service its own process), in a private var dir on
free ports; the load generator is the only thing in this process.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from app.local_stack import Child, child_env, free_port, make_settings, mint_token
from assistant.errors import ConfigurationError
from assistant.settings import PROJECT_DIR, Settings, TemporalSettings

NLU_TURNS = ("hi there", "thanks!", "are you a bot?", "what can you do?", "bye", "hello", "thank you so much")
FORM_TURNS = ("I need next Friday off", "/inform{\"date\": \"%s\"}", "vacation", "no", "yes")

Send = Callable[[str, str], Awaitable[list]]


@dataclass
class Series:
    name: str
    latencies: list[float]
    wall: float
    errors: int = 0

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies)
        if not xs:
            return float("nan")
        k = min(len(xs) - 1, max(0, round(q / 100 * (len(xs) - 1))))
        return xs[k] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def row(self) -> str:
        return (f"{self.name:<28} {len(self.latencies):>6} {self.pct(50):>8.1f} {self.pct(95):>8.1f} "
                f"{self.pct(99):>8.1f} {statistics.fmean(self.latencies) * 1000 if self.latencies else 0:>8.1f} "
                f"{self.throughput:>9.1f} {self.errors:>6}")


def bench_directory(path: Path, users: int) -> list[str]:
    """Synthetic employees reporting to bob, so each simulated user has its own conversation."""
    base = yaml.safe_load((PROJECT_DIR / "data" / "directory.yml").read_text())
    ids = [f"bench{i:02d}" for i in range(users)]
    for uid in ids:
        base["users"].append({"id": uid, "name": f"Bench User {uid[-2:]}", "email": f"{uid}@example.com",
                              "manager": "bob", "roles": ["employee"], "groups": ["all-staff"]})
    path.write_text(yaml.safe_dump(base))
    return ids


async def _user(send: Send, sender: str, texts: list[str], think: float, out: list[float], errs: list[int]) -> None:
    # Paced users wait a random 0.5x-1.5x of the mean think time (Locust's `between`); the random
    # start spreads them out as real users are. Think time 0 measures saturation instead.
    rng = random.Random(sender)
    if think:
        await asyncio.sleep(rng.uniform(0, think))
    for text in texts:
        t0 = time.perf_counter()
        try:
            await send(sender, text)
            out.append(time.perf_counter() - t0)
        except (httpx.HTTPError, RuntimeError):
            errs.append(1)
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


async def run_series(name: str, send: Send, senders: list[str], plan: Callable[[int], list[str]],
                     think: float) -> Series:
    latencies: list[float] = []
    errors: list[int] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(_user(send, s, plan(i), think, latencies, errors) for i, s in enumerate(senders)))
    return Series(name, latencies, time.perf_counter() - t0, len(errors))


@asynccontextmanager
async def deployed_stack(settings: Settings) -> AsyncIterator[None]:
    """`aios up` for `settings`, until its gateway's /healthz is green; stopped on exit."""
    up = Child("up", [sys.executable, "-m", "app.cli", "up"], settings.core.logs_dir,
               env=child_env(settings))
    try:
        async with httpx.AsyncClient() as http:
            async def healthy() -> bool:
                return (await http.get(f"{settings.gateway.url}/healthz", timeout=3)).status_code == 200
            await up.wait_ready(healthy, timeout=600)
        yield
    finally:
        up.stop()


def gateway_sender(settings: Settings, http: httpx.AsyncClient) -> Send:
    minted: dict[str, str] = {}

    async def send(user: str, text: str) -> list:
        if user not in minted:
            minted[user] = mint_token(settings, user)
        token = minted[user]
        body = {"payload": text} if text.startswith("/") else {"message": text}
        r = await http.post(f"{settings.gateway.url}/api/chat", json=body, headers={"Authorization": f"Bearer {token}"})
        if r.status_code != 200:
            raise RuntimeError(f"gateway {r.status_code}: {r.text[:200]}")
        return r.json()["messages"]

    return send


def rasa_sender(settings: Settings, http: httpx.AsyncClient) -> Send:
    async def send(user: str, text: str) -> list:
        r = await http.post(f"{settings.rasa.url}/webhooks/rest/webhook",
                            json={"sender": user, "message": text, "metadata": {"channel": "web"}},
                            headers={"Authorization": f"Bearer {settings.rasa_auth_token()}"})
        if r.status_code != 200:
            raise RuntimeError(f"rasa {r.status_code}")
        return r.json()

    return send


async def run_bench(settings: Settings | None = None, *, users: int, turns: int, forms: int, think: float,
                    rounds: int = 2) -> list[Series]:
    if users < 1 or turns < 1:
        raise ConfigurationError("users and turns must be at least 1")
    with tempfile.TemporaryDirectory(prefix="aios-bench-") as tmp:
        var = Path(tmp)
        ids = bench_directory(var / "directory.yml", users * 2)
        bench_settings = make_settings(var, directory_path=var / "directory.yml").model_copy(update={
            "temporal": TemporalSettings(task_queue="aios-bench", address=f"127.0.0.1:{free_port()}")})
        print(f"Starting `aios up` privately (var dir {tmp}, free ports) ...", flush=True)
        async with deployed_stack(bench_settings):
            from datetime import date, timedelta

            friday = date.today() + timedelta(days=(4 - date.today().weekday()) % 7 or 7)
            form_turns = [t % friday.isoformat() if "%s" in t else t for t in FORM_TURNS]
            limits = httpx.Limits(max_connections=users * 4, max_keepalive_connections=users * 4)
            async with httpx.AsyncClient(timeout=60, limits=limits) as http:
                gw, ra = gateway_sender(bench_settings, http), rasa_sender(bench_settings, http)
                nlu_plan = lambda i: [NLU_TURNS[(i + k) % len(NLU_TURNS)] for k in range(turns)]  # noqa: E731
                form_plan = lambda i: form_turns * forms  # noqa: E731
                gw_users, rasa_users = ids[:users], [f"direct-{u}" for u in ids[users:]]
                # Warm both paths (first TF predictions are slow), then alternate A/B rounds.
                await run_series("warmup", gw, gw_users, lambda i: ["hello"], 0)
                await run_series("warmup", ra, rasa_users, lambda i: ["hello"], 0)
                results: dict[str, Series] = {}
                for _ in range(rounds):
                    for name, send, who, plan in (
                        ("rasa webhook, NLU-only", ra, rasa_users, nlu_plan),
                        ("gateway, NLU-only", gw, gw_users, nlu_plan),
                        ("rasa webhook, time-off form", ra, rasa_users, form_plan),
                        ("gateway, time-off form", gw, gw_users, form_plan),
                    ):
                        s = await run_series(name, send, who, plan, think)
                        prev = results.get(name)
                        results[name] = s if prev is None else Series(
                            name, prev.latencies + s.latencies, prev.wall + s.wall, prev.errors + s.errors)
        series = list(results.values())
    pacing = f"think time {0.5 * think:g}-{1.5 * think:g} s" if think else "no think time (saturation)"
    print(f"\n{users} concurrent users, {pacing}, {rounds} alternating rounds; latencies in ms")
    print(f"{'path':<28} {'turns':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'mean':>8} {'turns/s':>9} {'errors':>6}")
    for s in series:
        print(s.row())
    by = {s.name: s for s in series}
    for kind in ("NLU-only", "time-off form"):
        g, r = by[f"gateway, {kind}"], by[f"rasa webhook, {kind}"]
        print(f"gateway/rasa ratio, {kind}: p50 {g.pct(50) / r.pct(50):.2f}, p95 {g.pct(95) / r.pct(95):.2f}, "
              f"throughput {g.throughput / r.throughput:.2f}")
    return series
