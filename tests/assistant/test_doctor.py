"""`aios doctor` and what `aios up` says when a service dies while starting."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from app.local_stack import free_port
from assistant.settings import PROJECT_DIR

pytestmark = [pytest.mark.timeout(600)]


def doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", "doctor", *args], env=env,
                          cwd=PROJECT_DIR, capture_output=True, text=True, timeout=540)


def rows(output: str) -> dict[str, tuple[str, str]]:
    """check -> (status, detail) from the printed table."""
    out = {}
    for line in output.splitlines()[2:]:
        parts = line.split(None, 1)
        if len(parts) == 2 and "  " in line:
            check, rest = line.split("  ", 1)
            status, _, detail = rest.strip().partition("  ")
            out[check.strip()] = (status.strip(), detail.strip())
    return out


def stack_env(stack) -> dict[str, str]:
    return {**os.environ, **stack.settings.to_env(), "AIOS_TEMPORAL_EMBEDDED": "false"}


async def test_a_healthy_install_with_its_stack_running_is_all_ok(stack):
    # In a thread: the stack's gateway runs in this event loop and must answer the doctor.
    result = await asyncio.to_thread(doctor, stack_env(stack))
    assert result.returncode == 0, result.stdout + result.stderr
    table = rows(result.stdout)
    assert "All checks passed." in result.stdout
    for check in ("cpu", "llama.cpp build", "model file", "embedding model", "generation",
                  "embedding", "rasa model", "temporal", "gateway port", "rasa port",
                  "actions port", "knowledge port", "disk"):
        assert table[check][0] in ("OK", "WARN"), (check, table[check])
    assert table["llama.cpp build"][0] == "OK" and "proven on this machine" in table["llama.cpp build"][1]
    assert "tokens/s" in table["generation"][1]
    assert table["rasa model"][0] == "OK" and "loads" in table["rasa model"][1]
    assert "in use by a running AIOS service" in table["gateway port"][1]
    assert "serving" in table["temporal"][1]
    assert "in use by a running AIOS service" in table["rasa port"][1]
    assert table["mode"][0] == "WARN"  # dev mode is said, not hidden


def test_a_missing_model_file_is_named_and_fails(tmp_path):
    env = {**os.environ, "AIOS_VAR_DIR": str(tmp_path), "AIOS_GATEWAY_PORT": str(free_port()),
           "AIOS_KNOWLEDGE_MODEL_PATH": str(tmp_path / "gone.gguf")}
    result = doctor(env, "--skip", "embedding", "--skip", "rasa")
    assert result.returncode == 1
    table = rows(result.stdout)
    status, detail = table["model file"]
    assert status == "FAIL" and f"not found: {tmp_path / 'gone.gguf'}" in detail
    assert table["generation"][0] == "FAIL"
    assert "FAILED: model file, generation" in result.stdout


def test_an_unreachable_temporal_is_named_and_fails(tmp_path):
    address = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "AIOS_VAR_DIR": str(tmp_path), "AIOS_TEMPORAL_EMBEDDED": "false",
           "AIOS_TEMPORAL_ADDRESS": address}
    result = doctor(env, "--skip", "generation", "--skip", "embedding", "--skip", "rasa")
    assert result.returncode == 1
    assert rows(result.stdout)["temporal"] == ("FAIL", f"cannot reach the Temporal cluster at {address}")


def test_a_port_held_by_another_program_fails(tmp_path):
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {**os.environ, "AIOS_VAR_DIR": str(tmp_path), "AIOS_ACTIONS_PORT": str(port)}
        result = doctor(env, "--skip", "generation", "--skip", "embedding", "--skip", "rasa")
    assert result.returncode == 1
    status, detail = rows(result.stdout)["actions port"]
    assert status == "FAIL" and f"127.0.0.1:{port} is in use by another program" in detail


@pytest.mark.slow
def test_up_runs_the_doctor_when_a_service_dies_while_starting(tmp_path):
    from tests.assistant.test_up import up_env

    env = up_env(tmp_path)
    env["AIOS_KNOWLEDGE_MODEL_PATH"] = str(tmp_path / "missing.gguf")
    env["AIOS_KNOWLEDGE_PORT"] = str(free_port())
    proc = subprocess.run([sys.executable, "-m", "app.cli", "up"], env=env, cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=540)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "ERROR: knowledge exited with code" in out
    assert "`.venv/bin/aios doctor` runs the same checks" in out
    assert f"not found: {tmp_path / 'missing.gguf'}" in out
