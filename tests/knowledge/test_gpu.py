"""All layers go to the GPU exactly when the installed llama.cpp build can offload."""

from __future__ import annotations

import llama_cpp

from knowledge.llm.gpu import gpu_layers


def test_gpu_build_offloads_every_layer(monkeypatch):
    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: True)
    assert gpu_layers() == -1


def test_cpu_build_keeps_layers_on_the_cpu(monkeypatch):
    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: False)
    assert gpu_layers() == 0


def test_this_machine_has_a_cpu_build():
    assert gpu_layers() == (-1 if llama_cpp.llama_supports_gpu_offload() else 0)
