"""`aios doctor`: is this machine and this install able to run the assistant? One table, one verdict."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from app import rasa_server
from assistant import health, native
from assistant.errors import AssistantError
from assistant.settings import Settings

Status = Literal["ok", "warn", "fail"]
MIN_FREE_BYTES, LOW_FREE_BYTES = 512 * 1024**2, 2 * 1024**3


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    check: str
    status: Status
    detail: str


def _cpu() -> Finding:
    flags = native.cpu_flags()
    levels = [name for name, need in (("AVX2", "avx2"), ("AVX-512", "avx512f"),
                                      ("AVX-VNNI", "avx_vnni")) if need in flags]
    amx = "amx_tile" in flags
    if amx:
        levels.append("AMX (granted)" if native.amx_granted() else "AMX (reported, not granted)")
    return Finding("cpu", "ok", f"{native.cpu_model()}; {', '.join(levels) or 'no AVX2'}")


def _llama_env() -> Path | None:
    """The environment llama_cpp is installed in, found without importing it."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        return None
    # <env>/lib/pythonX.Y/site-packages/llama_cpp/__init__.py
    return Path(spec.origin).resolve().parents[4]


def _llama_build() -> Finding:
    env = _llama_env()
    if env is None:
        return Finding("llama.cpp build", "fail", "llama-cpp-python is not installed; run `make env`")
    record_path = env / ".aios-llama.json"
    if not record_path.exists():
        return Finding("llama.cpp build", "warn", f"no record of a proven build in {env}; run `make env`")
    record = json.loads(record_path.read_text())
    proven_here = record.get("host") == native.host_signature()
    fallbacks = f"; fell back from {', '.join(record['fallbacks'])}" if record.get("fallbacks") else ""
    detail = f"variant {record['variant']}{fallbacks}"
    if not proven_here:
        return Finding("llama.cpp build", "warn", detail + "; proven on another machine: run `make env`")
    return Finding("llama.cpp build", "ok", detail + "; proven on this machine")


def _files(settings: Settings) -> list[Finding]:
    out = []
    try:
        gguf = settings.knowledge.gguf_path()
    except AssistantError as exc:
        out.append(Finding("model file", "fail", exc.message))
    else:
        out.append(Finding("model file", "ok", f"{gguf} ({gguf.stat().st_size / 1e6:.0f} MB)")
                   if gguf.is_file() else Finding("model file", "fail", f"{gguf} is missing"))
    try:
        emb = settings.knowledge.embedding_path()
    except AssistantError as exc:
        out.append(Finding("embedding model", "fail", exc.message))
    else:
        out.append(Finding("embedding model", "ok", str(emb)) if emb.exists()
                   else Finding("embedding model", "fail", f"{emb} is missing"))
    return out


def _generation(settings: Settings) -> Finding:
    try:
        gguf = settings.knowledge.gguf_path()
    except AssistantError as exc:
        return Finding("generation", "fail", f"no model: {exc.message}")
    if not gguf.is_file():
        return Finding("generation", "fail", f"no model at {gguf}")
    result = native.run_smoke(sys.executable, "llama", model=gguf, tokens=32)
    if not result.ok:
        return Finding("generation", "fail", result.detail)
    where = "GPU offload" if result.data.get("gpu_offload") else "CPU"
    return Finding("generation", "ok", f"{result.data['tokens_per_second']} tokens/s ({where})")


def _embedding() -> Finding:
    result = native.run_smoke(sys.executable, "embedder")
    return Finding("embedding", "ok" if result.ok else "fail", result.detail)


def _rasa(settings: Settings) -> list[Finding]:
    python = settings.rasa.python
    if not python.exists():
        return [Finding("rasa", "fail", f"no Rasa environment at {python}; run `make env`")]
    model = rasa_server.cached_model(settings)
    if model is None:
        return [Finding("rasa model", "warn", "not trained for the current data yet: `aios up` or "
                        "`aios train` trains it (about 3 minutes)")]
    try:
        proc = subprocess.run(
            [str(python), "-c", "import sys; from rasa.core.agent import Agent; "
             "a = Agent.load(sys.argv[1]); assert a.is_ready(), 'agent not ready'", str(model)],
            capture_output=True, text=True, timeout=300, env=rasa_server.rasa_env(settings))
    except subprocess.TimeoutExpired:
        return [Finding("rasa model", "fail", f"{model.name} did not load within 300 s")]
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return [Finding("rasa model", "fail", f"{model.name} does not load: {tail}")]
    return [Finding("rasa model", "ok", f"{model.name} loads")]


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


async def _services(settings: Settings) -> list[Finding]:
    """Each service's port: free (aios up will use it), or held by a healthy AIOS service."""
    from knowledge.health import check_knowledge
    from workflows.client import connect

    out: list[Finding] = []
    t = settings.temporal
    t_host, _, t_port = t.address.rpartition(":")
    if _listening(t_host, int(t_port)):
        try:
            client = await asyncio.wait_for(connect(t), timeout=5)
            state = await health.check_temporal(client, settings)
        except Exception as exc:  # noqa: BLE001 - any failure to talk Temporal is the finding
            state = health.ComponentHealth("temporal", False, f"{type(exc).__name__}: {exc}")
        out.append(Finding("temporal", "ok" if state.ok else "fail",
                           f"{t.address}: {'serving' if state.ok else state.detail}"))
    elif t.embedded:
        found = t.cli_path.exists()
        out.append(Finding("temporal", "ok" if found else "fail",
                           f"not running; `aios up` starts {t.cli_path}" if found
                           else f"{t.cli_path} is missing; run `make env`"))
    else:
        out.append(Finding("temporal", "fail", f"cannot reach the Temporal cluster at {t.address}"))

    async with httpx.AsyncClient() as http:
        probes: dict[str, tuple[str, int, Callable]] = {
            "gateway port": (settings.gateway.host, settings.gateway.port,
                             lambda: health.check_http("gateway", http, f"{settings.gateway.url}/healthz")),
            "rasa port": (settings.rasa.host, settings.rasa.port,
                          lambda: health.check_rasa(settings, http)),
            "actions port": (settings.actions.host, settings.actions.port,
                             lambda: health.check_actions(settings, http)),
            "knowledge port": (settings.knowledge.host, settings.knowledge.port,
                               lambda: check_knowledge(settings, http)),
        }
        for name, (host, port, probe) in probes.items():
            if not _listening(host, port):
                out.append(Finding(name, "ok", f"{host}:{port} free"))
                continue
            state = await probe()
            out.append(Finding(name, "ok", f"{host}:{port} in use by a running AIOS service")
                       if state.ok else
                       Finding(name, "fail", f"{host}:{port} is in use by another program ({state.detail})"))
    return out


def _disk(settings: Settings) -> Finding:
    path = settings.core.var_dir
    while not path.exists():
        path = path.parent
    free = shutil.disk_usage(path).free
    status: Status = "ok" if free >= LOW_FREE_BYTES else "warn" if free >= MIN_FREE_BYTES else "fail"
    return Finding("disk", status, f"{free / 1024**3:.1f} GiB free at {path}")


def _mode(settings: Settings) -> Finding:
    try:
        settings.core.check_secure()
    except AssistantError as exc:
        return Finding("mode", "fail", f"{settings.core.mode}: {exc.message}")
    if settings.core.mode == "dev":
        return Finding("mode", "warn", "dev: for one machine only, never for a public deployment "
                       "(AIOS_MODE=prod, see the README)")
    return Finding("mode", "ok", "prod")


async def _sign_in(settings: Settings) -> Finding:
    """The company's identity provider, as the gateway will use it (AIOS_OIDC_*)."""
    from channels.web.oidc import OidcClient

    oidc = settings.oidc
    if not oidc.enabled:
        return Finding("sign-in", "ok", "no identity provider (AIOS_OIDC_ISSUER): the pages take tokens from "
                                        "`aios token`")
    try:
        oidc.check(settings.core.mode)
        client = OidcClient(oidc, redirect_uri=oidc.callback_url(settings.gateway.url))
        try:
            detail = await client.probe()
        finally:
            await client.close()
    except AssistantError as exc:
        return Finding("sign-in", "fail", exc.message)
    return Finding("sign-in", "ok", f"{detail}; redirect URI {client.redirect_uri}")


async def diagnose(settings: Settings, *, skip: frozenset[str] = frozenset()) -> list[Finding]:
    """Every check, in the order a newcomer would want them; `skip` leaves out slow ones by name."""
    findings = [_mode(settings), _cpu(), _llama_build(), *_files(settings)]
    if "generation" not in skip:
        findings.append(await asyncio.to_thread(_generation, settings))
    if "embedding" not in skip:
        findings.append(await asyncio.to_thread(_embedding))
    if "rasa" not in skip:
        findings += await asyncio.to_thread(_rasa, settings)
    findings += await _services(settings)
    findings.append(await _sign_in(settings))
    findings.append(_disk(settings))
    return findings


def render(findings: list[Finding]) -> str:
    """A plain-text table (no colour codes: it goes to logs as often as to a terminal)."""
    width = max(len(f.check) for f in findings)
    lines = [f"{'check'.ljust(width)}  status  detail", f"{'-' * width}  ------  ------"]
    lines += [f"{f.check.ljust(width)}  {f.status.upper().ljust(6)}  {f.detail}" for f in findings]
    failed = [f.check for f in findings if f.status == "fail"]
    lines.append("")
    lines.append(f"FAILED: {', '.join(failed)}" if failed else "All checks passed.")
    return "\n".join(lines)


def healthy(findings: list[Finding]) -> bool:
    return all(f.status != "fail" for f in findings)
