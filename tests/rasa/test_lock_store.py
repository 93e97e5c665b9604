"""The add-on lock store issues each ticket of a conversation once, whichever process asks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from string import Template

from app import rasa_server
from app.local_stack import make_settings

CHECK = Path(__file__).parent / "in_rasa" / "check_lock_store.py"


def test_tickets_are_unique_across_processes(tmp_path, redis_server):
    settings = make_settings(tmp_path)
    settings.rasa.lock_store_url = redis_server.url(db=4)
    config = rasa_server.lock_store(settings)
    assert config["type"] == "aios_rasa.lock_store.AtomicRedisLockStore"
    assert redis_server.password not in json.dumps(config)  # it travels in the environment
    env = rasa_server.rasa_env(settings)
    # As Rasa reads endpoints.yml: ${...} from the environment it runs in.
    config = {k: Template(v).substitute(env) if isinstance(v, str) else v for k, v in config.items()}
    result = subprocess.run([str(settings.rasa.python), str(CHECK), json.dumps(config)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"issued": 200, "unique": 200, "lock_left": False}
