"""Whether to offload layers to a GPU: all of them when the installed llama.cpp build can."""

from __future__ import annotations

from collections.abc import Callable


def gpu_layers(supports_offload: Callable[[], bool] | None = None) -> int:
    """`n_gpu_layers` for llama.cpp: -1 (all layers) on a GPU-capable build, else 0 (CPU)."""
    if supports_offload is None:
        import llama_cpp

        supports_offload = llama_cpp.llama_supports_gpu_offload
    return -1 if supports_offload() else 0
