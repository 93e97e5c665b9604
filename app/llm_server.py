"""llama.cpp's own `llama-server`: the answer model as a service with parallel slots.

`aios up` starts it when AIOS_KNOWLEDGE_LLM_BACKEND=llama-server, and every knowledge replica talks
to it through the OpenAI-compatible backend. The binary is built from the llama.cpp sources inside
the llama-cpp-python sdist by `make env`, with the CMake options the Python build proved on this
machine, and proven itself before it is linked into .venv/bin (tools/envs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assistant.errors import ConfigurationError
from assistant.settings import Settings, private_file
from assistant.settings.knowledge import llama_server_key
from knowledge.llm.gpu import gpu_layers


def key_file(settings: Settings) -> Path:
    """The server's API key in a 0600 file (a key on the command line would show in `ps`)."""
    path = settings.core.var_dir / "llama-server.key"
    want = llama_server_key(settings.core.secret_key.get_secret_value())
    if private_file(path, lambda: want + "\n").strip() != want:  # the secret changed since
        path.unlink()
        private_file(path, lambda: want + "\n")
    return path


def command(settings: Settings, *, supports_offload: Callable[[], bool] | None = None) -> list[str]:
    """The llama-server command line; every layer on the GPU when the build (same options as the
    in-process wheel, CUDA included) can offload, as the in-process backend decides."""
    k = settings.knowledge
    if not k.llama_server_path.exists():
        raise ConfigurationError(f"llama-server is not built at {k.llama_server_path}: run `make env`")
    model = k.gguf_path()
    return [
        str(k.llama_server_path), "-m", str(model), "--alias", model.stem,
        "--host", k.llama_server_host, "--port", str(k.llama_server_port),
        # Each of the slots gets n_ctx tokens; generations in flight are batched together.
        "-np", str(k.llama_server_slots), "-c", str(k.n_ctx * k.llama_server_slots),
        "-t", str(k.threads()), "-tb", str(k.threads()), "-b", str(k.n_batch), "--seed", str(k.seed),
        "-ngl", "999" if gpu_layers(supports_offload) == -1 else "0",
        "--api-key-file", str(key_file(settings)), "--no-webui", "--metrics",
    ]
