"""Running Rasa from its own environment: train (cached by data hash), configure, start."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from sqlalchemy.engine import make_url

from assistant.errors import ConfigurationError
from assistant.settings import Settings

log = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"
ADDONS_DIR = Path(__file__).resolve().parent / "rasa" / "addons"


def rasa_env(settings: Settings) -> dict[str, str]:
    """Environment of every Rasa process: offline, quiet, no telemetry."""
    env = dict(os.environ)
    env.update({
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONWARNINGS": "ignore",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        # Rasa's training cache (per component fingerprint): outside the clone, so a change to
        # the rules does not retrain the NLU model, in CI and across sessions too.
        "RASA_CACHE_DIRECTORY": str(settings.core.cache_dir / "rasa-train-cache"),
    })
    # The Rasa environment imports nothing of ours except its own add-ons (a tracker store).
    env["PYTHONPATH"] = str(ADDONS_DIR)
    # Read by credentials.yml (the gateway's channel) and endpoints.yml (the action server's token).
    env["AIOS_RASA_TOKEN"] = settings.rasa_auth_token()
    env["AIOS_ACTIONS_TOKEN"] = settings.actions_token()
    env.update(store_secrets(settings))
    if settings.rasa.threads:
        # TensorFlow's pools and the OpenMP/MKL pools torch and numpy use: several Rasa processes
        # on one machine each take their share instead of all fighting over every core.
        n = str(settings.rasa.threads)
        env.update({"TF_INTRA_OP_PARALLELISM_THREADS": n, "TF_INTER_OP_PARALLELISM_THREADS": n,
                    "OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n})
    # config.yml's MiniLMFeaturizer reads the knowledge service's sentence encoder from here.
    env["AIOS_SENTENCE_MODEL"] = str(settings.knowledge.embedding_path())
    return env


def training_files(settings: Settings) -> list[Path]:
    rasa_dir = settings.rasa.project_dir
    data = sorted((settings.core.data_dir / "rasa").glob("*.yml"))
    return [rasa_dir / "config.yml", rasa_dir / "domain.yml", *data]


def model_key(settings: Settings) -> str:
    h = hashlib.sha256(RASA_VERSION.encode())
    for path in training_files(settings):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    _hash_pipeline_code(h)
    return h.hexdigest()[:20]


def nlu_key(settings: Settings) -> str:
    """Hash of what NLU training reads: the pipeline and the NLU data (not rules, not policies)."""
    config = yaml.safe_load((settings.rasa.project_dir / "config.yml").read_text())
    h = hashlib.sha256(RASA_VERSION.encode())
    h.update(yaml.safe_dump({k: config.get(k) for k in ("recipe", "language", "pipeline")}).encode())
    for path in sorted((settings.core.data_dir / "rasa").glob("*.yml")):
        if "nlu" in (yaml.safe_load(path.read_text()) or {}):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    _hash_pipeline_code(h)
    return h.hexdigest()[:20]


def _hash_pipeline_code(h: Any) -> None:
    """The add-on modules the NLU pipeline runs (`aios_rasa.pipeline_fingerprint`): new code, new model.
    Read from the add-on's own file: the package belongs to the Rasa environment, not this one."""
    spec = importlib.util.spec_from_file_location("aios_rasa_fingerprint", ADDONS_DIR / "aios_rasa" / "__init__.py")
    assert spec is not None and spec.loader is not None
    addon = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(addon)
    h.update(addon.pipeline_fingerprint().encode())


def models_dir(settings: Settings) -> Path:
    return settings.core.cache_dir / "rasa-models"


def cached_model(settings: Settings) -> Path | None:
    path = models_dir(settings) / f"{model_key(settings)}.tar.gz"
    return path if path.exists() else None


def ensure_model(settings: Settings, *, force: bool = False, stream=None) -> Path:
    """The trained model for the current data; trains only when the data or config changed."""
    target = models_dir(settings) / f"{model_key(settings)}.tar.gz"
    if target.exists() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists() and not force:
            return target
        if not settings.rasa.python.exists():
            raise ConfigurationError(
                f"Rasa environment not found at {settings.rasa.python}; run `make run` or `make test`")
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            # Rules are checked only when RulePolicy trains, after the long NLU training: train the
            # dialogue policies alone first (seconds) so a broken rule fails fast.
            _run_rasa(settings, [
                "train", "core", "--config", str(settings.rasa.project_dir / "config.yml"),
                "--domain", str(settings.rasa.project_dir / "domain.yml"),
                "--stories", str(settings.core.data_dir / "rasa"), "--out", os.path.join(tmp, "core"),
            ], cwd=tmp, stream=stream, what="rasa train core (rule check)")
            log.info("rasa.train key=%s", model_key(settings))
            print(f"Training the Rasa model (data changed or first run; ~5-10 min): {target.name}",
                  file=sys.stderr, flush=True)
            _run_rasa(settings, [
                "train", "--config", str(settings.rasa.project_dir / "config.yml"),
                "--domain", str(settings.rasa.project_dir / "domain.yml"),
                "--data", str(settings.core.data_dir / "rasa"), "--out", tmp, "--fixed-model-name", "model",
            ], cwd=tmp, stream=stream, what="rasa train")
            shutil.move(os.path.join(tmp, "model.tar.gz"), target)
    return target


def _run_rasa(settings: Settings, args: list[str], *, cwd: str, stream, what: str) -> None:
    result = subprocess.run([str(settings.rasa.python), "-m", "rasa", *args], env=rasa_env(settings), cwd=cwd,
                            stdout=stream or subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise ConfigurationError(f"{what} failed (exit {result.returncode}):\n{(result.stdout or '')[-3000:]}")


def write_endpoints(settings: Settings) -> Path:
    """endpoints.yml for this run: the configured action server and tracker store."""
    var = settings.core.var_dir
    var.mkdir(parents=True, exist_ok=True)
    endpoints = {
        # The token stays in the environment, not in this file: Rasa expands ${...} when it reads it.
        "action_endpoint": {"url": settings.actions.webhook_url,
                            "headers": {"Authorization": "Bearer ${AIOS_ACTIONS_TOKEN}"}},
        # Rasa's SQL store (schema, queries, saving) with a faster event loader; see the add-on.
        "tracker_store": {"type": "aios_rasa.tracker_store.FastSQLTrackerStore", **tracker_store(settings)},
        "lock_store": lock_store(settings),
    }
    # One file per Rasa process (its port): replicas of the scale profile share var/.
    path = var / f"rasa-endpoints-{settings.rasa.port}.yml"
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    return path


def tracker_store(settings: Settings) -> dict[str, str | int]:
    """Rasa's SQLTrackerStore arguments: the configured URL, the core database if it is PostgreSQL, else
    SQLite. A password is not written into the file: Rasa reads it from AIOS_RASA_TRACKER_PASSWORD."""
    parsed = make_url(_tracker_url(settings))
    if parsed.get_backend_name() == "sqlite" and not settings.rasa.tracker_store_url:
        return {"dialect": "sqlite", "db": str(settings.core.var_dir / "rasa-tracker.db")}
    if parsed.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": parsed.database or ""}
    if parsed.get_backend_name() != "postgresql":
        raise ConfigurationError(f"Rasa's tracker store: {parsed.get_backend_name()} is not supported "
                                 "(SQLite or PostgreSQL)")
    # Rasa hands a custom store the endpoint's `url` as its `host` argument.
    store: dict[str, str | int] = {"dialect": "postgresql", "url": parsed.host or "127.0.0.1",
                                   "port": parsed.port or 5432, "db": parsed.database or "",
                                   "username": parsed.username or ""}
    if parsed.password:
        store["password"] = "${AIOS_RASA_TRACKER_PASSWORD}"
    return store


def lock_store(settings: Settings) -> dict[str, str | int]:
    """In memory for one Rasa process; Redis (AIOS_RASA_LOCK_STORE_URL) for several."""
    if not settings.rasa.lock_store_url:
        return {"type": "in_memory"}
    url = urlsplit(settings.rasa.lock_store_url)
    if url.scheme not in ("redis", "rediss"):
        raise ConfigurationError(f"AIOS_RASA_LOCK_STORE_URL must be redis://... (not {url.scheme}://)")
    # Rasa's RedisLockStore, with its read-change-write of a lock made atomic (see the add-on).
    store: dict[str, str | int] = {"type": "aios_rasa.lock_store.AtomicRedisLockStore",
                                   "url": url.hostname or "127.0.0.1", "port": url.port or 6379,
                                   "db": int(url.path.strip("/") or 0), "key_prefix": "aios",
                                   "use_ssl": url.scheme == "rediss"}
    if url.password:
        store["password"] = "${AIOS_RASA_LOCK_PASSWORD}"
    return store


def store_secrets(settings: Settings) -> dict[str, str]:
    """The passwords endpoints.yml names, for the Rasa process's environment."""
    env = {}
    tracker_password = make_url(_tracker_url(settings)).password
    if tracker_password:
        env["AIOS_RASA_TRACKER_PASSWORD"] = tracker_password
    lock_password = urlsplit(settings.rasa.lock_store_url).password if settings.rasa.lock_store_url else None
    if lock_password:
        env["AIOS_RASA_LOCK_PASSWORD"] = unquote(lock_password)
    return env


def _tracker_url(settings: Settings) -> str:
    return settings.rasa.tracker_store_url or settings.core.database_url


def run_command(settings: Settings, model: Path) -> list[str]:
    return [
        str(settings.rasa.python), "-m", "rasa", "run",
        "--enable-api", "--auth-token", settings.rasa_auth_token(),
        "--interface", settings.rasa.host, "--port", str(settings.rasa.port),
        "--model", str(model),
        "--endpoints", str(write_endpoints(settings)),
        "--credentials", str(settings.rasa.project_dir / "credentials.yml"),
        "--response-timeout", "60",
    ]
