"""The installer's llama.cpp build ladder: every build proves itself, a crashing one is replaced."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from assistant import native

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def envs():
    spec = importlib.util.spec_from_file_location("aios_envs", ROOT / "tools" / "envs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


AMX_CPU = {"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512cd", "avx512vl",
           "avx512dq", "avx512bw", "avx512_vnni", "amx_tile", "amx_int8"}


def _on(variant: native.Variant) -> set[str]:
    return {a[2:-3] for a in variant.cmake_args if a.endswith("=ON")}


def test_amx_is_compiled_only_when_the_kernel_grants_it():
    refused = native.llama_variants(flags=AMX_CPU, amx=False)
    granted = native.llama_variants(flags=AMX_CPU, amx=True)
    assert refused[0].name == granted[0].name == "detected"
    assert not any("AMX" in o for v in refused for o in _on(v))
    assert {"GGML_AMX_TILE", "GGML_AMX_INT8"} <= _on(granted[0])
    assert "GGML_AMX_BF16" not in _on(granted[0])  # the CPU does not report amx_bf16
    # Never -march=native: the compiler would see AMX whatever the kernel allows.
    assert all("-DGGML_NATIVE=OFF" in v.cmake_args for v in refused + granted)


def test_the_ladder_goes_down_to_a_baseline_every_x86_64_cpu_runs():
    names = [v.name for v in native.llama_variants(flags=AMX_CPU, amx=False)]
    assert names == ["detected", "avx2", "sse42", "x86-64"]
    baseline = native.llama_variants(flags=AMX_CPU, amx=False)[-1]
    assert _on(baseline) == set()
    # A CPU without AVX2 has no avx2 rung, and its best build enables only what it has.
    old = native.llama_variants(flags={"sse4_2", "avx"}, amx=False)
    assert [v.name for v in old] == ["detected", "sse42", "x86-64"]
    assert _on(old[0]) == {"GGML_SSE42", "GGML_AVX"}


def test_a_users_cmake_args_come_first_and_cuda_stays_in_every_variant():
    variants = native.llama_variants(flags=AMX_CPU, amx=False,
                                     user_args="-DGGML_NATIVE=ON -DGGML_BLAS=ON", cuda=True)
    assert variants[0] == native.Variant("custom", ("-DGGML_NATIVE=ON", "-DGGML_BLAS=ON",
                                                    "-DGGML_CUDA=on"))
    assert all({"-DGGML_BLAS=ON", "-DGGML_CUDA=on"} <= set(v.cmake_args) for v in variants)
    assert [v.name for v in variants[1:]] == ["detected", "avx2", "sse42", "x86-64"]


def test_a_build_that_crashes_is_replaced_by_the_next_safer_one(envs, tmp_path, monkeypatch, capsys):
    """The first variant's build crashes when it generates (as the AMX build did); the installer
    falls back, and the environment it leaves has a llama.cpp that really generates text here."""
    monkeypatch.setenv("AIOS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(native.CRASH_SWITCH, "detected")
    env = tmp_path / "env"
    env.mkdir()
    built: list[str] = []

    def build(py, variant):  # the installed llama-cpp-python stands in for each variant's wheel
        built.append(variant.name)
        return tmp_path / f"{variant.name}.whl"

    def smoke(py, variant):  # the real check: this test's Python, the shipped model, a child process
        return native.run_smoke(sys.executable, "llama", variant=variant.name)

    variants = native.llama_variants(flags=native.cpu_flags(), amx=False)[:2]
    record = envs.ensure_llama(env, variants=variants, build=build, install=lambda py, w: None,
                               smoke=smoke)

    assert built == ["detected", "avx2"]
    assert record["variant"] == "avx2"
    assert record["fallbacks"] == ["detected: crashed with SIGSEGV"]
    assert "tokens=8" in record["smoke"]
    err = capsys.readouterr().err
    assert "llama.cpp detected build failed its smoke check (crashed with SIGSEGV); trying the next" in err
    assert json.loads((env / envs.LLAMA_RECORD).read_text())["host"] == native.host_signature()

    # Proven on this host: the next `make` takes it as it is, without building or checking again.
    again = envs.ensure_llama(env, variants=variants, build=pytest.fail, install=pytest.fail,
                              smoke=pytest.fail)
    assert again == record

    # Taken to another machine (another host signature), it must prove itself there again.
    moved = dict(record, host="another-machine")
    (env / envs.LLAMA_RECORD).write_text(json.dumps(moved))
    monkeypatch.delenv(native.CRASH_SWITCH)
    built.clear()
    assert envs.ensure_llama(env, variants=variants, build=build, install=lambda py, w: None,
                             smoke=smoke)["variant"] == "detected"
    assert built == ["detected"]


def test_no_build_that_runs_stops_the_install_with_the_reasons(envs, tmp_path, monkeypatch):
    monkeypatch.setenv("AIOS_CACHE_DIR", str(tmp_path / "cache"))
    variants = [native.Variant("only", ("-DGGML_NATIVE=OFF",))]
    failing = native.SmokeResult("llama", False, "no answer within 180s (hang)", 180.0)
    with pytest.raises(SystemExit, match="no llama.cpp build runs on this machine: only: no answer"):
        envs.ensure_llama(tmp_path, variants=variants, build=lambda py, v: tmp_path / "x.whl",
                          install=lambda py, w: None, smoke=lambda py, v: failing)
    assert not (tmp_path / envs.LLAMA_RECORD).exists()


@pytest.mark.parametrize("check", ["embedder", "chroma"])
def test_the_other_native_parts_of_the_main_environment_pass_their_smoke_check(check):
    result = native.run_smoke(sys.executable, check)
    assert result.ok, result.detail


def test_a_smoke_check_that_hangs_is_a_failure_not_a_hang(tmp_path):
    sleeper = tmp_path / "python"
    sleeper.write_text("#!/bin/sh\nsleep 30\n")
    sleeper.chmod(0o755)
    result = native.run_smoke(sleeper, "llama", timeout=1.0)
    assert not result.ok and "hang" in result.detail


def test_debian_packages_that_are_there_need_no_apt(envs, tmp_path, monkeypatch):
    present = tmp_path / "chromium"
    present.write_text("")
    monkeypatch.setattr(envs, "run", pytest.fail)
    envs.ensure_system_packages({"chromium": str(present)})


def test_missing_debian_packages_are_installed_with_apt_as_root(envs, tmp_path, monkeypatch):
    calls = []

    def run(cmd, **kw):
        calls.append(cmd)
        if len(calls) == 1:  # stale package lists on a fresh machine: update, then install again
            raise envs.subprocess.CalledProcessError(100, cmd)

    monkeypatch.setattr(envs.os, "geteuid", lambda: 0)
    monkeypatch.setattr(envs.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(envs, "run", run)
    envs.ensure_system_packages({"chromium": str(tmp_path / "chromium"), "jq": str(tmp_path / "jq")})
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium", "jq"]
    assert calls == [install, ["apt-get", "update", "-q"], install]


def test_without_root_the_missing_packages_are_named_not_installed(envs, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(envs.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(envs, "run", pytest.fail)
    envs.ensure_system_packages({"chromium": str(tmp_path / "chromium")})
    assert "apt-get install chromium" in capsys.readouterr().err


def test_llama_server_is_built_with_the_proven_options_and_proves_itself(envs, tmp_path, monkeypatch):
    """Built once with the Python build's proven CMake options, linked into the environment only
    after it served a completion here; a build that cannot serve stops the install."""
    monkeypatch.setenv("AIOS_CACHE_DIR", str(tmp_path / "cache"))
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    built: list[list[str]] = []

    def build(root: Path, cmake_args: list[str]) -> None:
        built.append(cmake_args)
        (root / "bin").mkdir(parents=True)
        (root / "bin" / "llama-server").write_text("#!/bin/sh\n")

    smokes: list[Path] = []

    def smoke(python, check, *, binary=None, **kw):
        smokes.append(binary)
        return native.SmokeResult(check, True, "tokens=8", 0.1)

    monkeypatch.setattr(envs, "build_llama_server", build)
    monkeypatch.setattr(envs.native, "run_smoke", smoke)
    record = {"cmake_args": ["-DGGML_NATIVE=OFF", "-DGGML_AVX2=ON", "-DGGML_CUDA=on"]}
    binary = envs.ensure_llama_server(env, record)
    assert built == [record["cmake_args"]] and smokes == [binary]
    assert (env / "bin" / "llama-server").resolve() == binary.resolve()
    envs.ensure_llama_server(env, record)  # cached and proven on this host: nothing again
    assert len(built) == 1 and len(smokes) == 1

    monkeypatch.setattr(envs.native, "run_smoke", lambda *a, **k: native.SmokeResult("llama-server", False,
                                                                                     "crashed with SIGSEGV", 0.1))
    with pytest.raises(SystemExit, match="llama-server does not run on this machine: crashed with SIGSEGV"):
        envs.ensure_llama_server(env, {"cmake_args": ["-DGGML_NATIVE=OFF", "-DGGML_AMX_TILE=ON"]})
