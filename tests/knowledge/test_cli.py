"""`aios ingest`, `aios knowledge list` and `aios knowledge reindex` as a user runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from app.local_stack import free_port
from knowledge.audit import JsonlAudit, build_audit
from tests.knowledge import docs
from tests.knowledge.conftest import HANDBOOK


def aios(var_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AIOS_VAR_DIR=str(var_dir), AIOS_KNOWLEDGE_PORT=str(free_port()),
               AIOS_SECRET_KEY="test-secret-" + "x" * 32, HF_HUB_OFFLINE="1", AIOS_LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def audit_trail(var_dir: Path) -> list[tuple[str, str]]:
    sink = build_audit(f"sqlite:///{var_dir / 'aios.db'}", var_dir / "knowledge" / "audit.jsonl")
    if isinstance(sink, JsonlAudit):
        return [(e["event"], e["actor"]) for e in sink.entries()]
    return [(r.event, r.actor) for r in sink.records() if r.event.startswith("knowledge.")]


def test_ingest_a_folder_list_and_reindex(tmp_path):
    folder = tmp_path / "docs"
    shutil.copytree(HANDBOOK, folder)
    (folder / "broken.pdf").write_bytes(docs.corrupt_pdf())
    var = tmp_path / "var"
    result = aios(var, "ingest", str(folder), "--as", "erin")
    assert result.returncode == 1, result.stderr  # one file was refused...
    assert "REFUSED" in result.stdout and "broken.pdf" in result.stdout and "damaged" in result.stdout
    assert result.stdout.count("ok ") == 10  # ...and every other one went in
    listed = aios(var, "knowledge", "list")
    assert listed.returncode == 0 and "engineering-on-call" in listed.stdout and "[engineering]" in listed.stdout
    assert "[managers,people-ops]" in listed.stdout  # groups from the folder's manifest.yml
    again = aios(var, "ingest", str(folder / "time-off-policy.md"), "--as", "erin")
    assert again.returncode == 0 and "unchanged" in again.stdout
    reindexed = aios(var, "knowledge", "reindex", "--as", "erin")
    assert reindexed.returncode == 0 and "reindexed 10 documents" in reindexed.stdout
    trail = audit_trail(var)
    assert trail.count(("knowledge.document.added", "erin")) == 10
    assert ("knowledge.reindexed", "erin") in trail


def test_ingest_with_explicit_groups_and_unknown_path(tmp_path):
    note = tmp_path / "parking.md"
    note.write_bytes(docs.markdown(docs.PARKING))
    var = tmp_path / "var"
    assert aios(var, "ingest", str(note), "--groups", "facilities").returncode == 0
    assert "[facilities]" in aios(var, "knowledge", "list").stdout
    missing = aios(var, "ingest", str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
