"""The Rasa add-on tracker store loads conversations exactly as Rasa's own SQL store does."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from app import rasa_server

CHECK = Path(__file__).parent / "in_rasa" / "check_tracker_store.py"


def test_fast_tracker_store_matches_rasas_sql_store(settings, tmp_path):
    result = subprocess.run(
        [str(settings.rasa.python), str(CHECK), str(settings.rasa.project_dir / "domain.yml"),
         str(tmp_path / "tracker.db")],
        env=rasa_server.rasa_env(settings), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"ok": True, "events": 17}


def test_rasa_runs_with_the_fast_store(settings):
    endpoints = rasa_server.write_endpoints(settings).read_text()
    assert "aios_rasa.tracker_store.FastSQLTrackerStore" in endpoints
    assert rasa_server.rasa_env(settings)["PYTHONPATH"] == str(rasa_server.ADDONS_DIR)
