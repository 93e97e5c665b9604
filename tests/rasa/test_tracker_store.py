"""The Rasa add-on tracker store loads conversations exactly as Rasa's own SQL store does."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from app import rasa_server
from app.local_stack import make_settings

CHECK = Path(__file__).parent / "in_rasa" / "check_tracker_store.py"


def test_fast_tracker_store_matches_rasas_sql_store(tmp_path, database_url):
    """On SQLite and on PostgreSQL, configured as `aios up` configures Rasa for that core database."""
    settings = make_settings(tmp_path, database_url=database_url)
    store = rasa_server.tracker_store(settings)
    assert store["dialect"] == make_url(database_url).get_backend_name()
    password = make_url(database_url).password
    assert not password or password not in json.dumps(store)  # it travels in the environment
    result = subprocess.run(
        [str(settings.rasa.python), str(CHECK), str(settings.rasa.project_dir / "domain.yml"), json.dumps(store)],
        env=rasa_server.rasa_env(settings), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"ok": True, "events": 17}


def test_rasa_runs_with_the_fast_store(settings):
    endpoints = rasa_server.write_endpoints(settings).read_text()
    assert "aios_rasa.tracker_store.FastSQLTrackerStore" in endpoints
    assert rasa_server.rasa_env(settings)["PYTHONPATH"] == str(rasa_server.ADDONS_DIR)


def test_the_reply_header_names_the_intent_and_what_a_fallback_leaned_to(settings):
    """The add-on hands the turn's intent from the tracker store to the channel's reply header, once."""
    code = (
        "from aios_rasa import last_parse as p\n"
        "p.remember('a', {'intent': {'name': 'greet', 'confidence': 0.97}, 'intent_ranking': []})\n"
        "p.remember('b', {'intent': {'name': 'nlu_fallback', 'confidence': 0.45}, 'intent_ranking': ["
        "{'name': 'nlu_fallback', 'confidence': 0.45}, {'name': 'request_access', 'confidence': 0.41}]})\n"
        "p.remember('c', {'intent': {}})\n"
        "print(repr([p.take('a'), p.take('a'), p.take('b'), p.take('c')]))\n"
    )
    result = subprocess.run([str(settings.rasa.python), "-c", code], env=rasa_server.rasa_env(settings),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == repr(
        ["greet;confidence=0.9700", None, "nlu_fallback;confidence=0.4500;candidate=request_access", None])
