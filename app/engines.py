"""PostgreSQL and Redis started by the project itself, on loopback (the scale profile and the tests).

The servers are Debian's (`postgresql`, `redis-server`), installed by `make env`; nothing here
assumes one is already running. A company's own PostgreSQL and Redis are used through
`AIOS_DATABASE_URL` and `AIOS_RASA_LOCK_STORE_URL` instead.

PostgreSQL refuses to run as root: when we are root (CI), its data directory belongs to the
`postgres` user the Debian package creates, and the server runs as that user.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.serving import free_port
from assistant.errors import ConfigurationError
from assistant.settings import private_file

log = logging.getLogger(__name__)

PG_USER = "aios"




def postgres_bin_dir() -> Path:
    """Where `initdb`, `pg_ctl` and `postgres` are: AIOS_POSTGRES_BIN_DIR, else Debian's newest."""
    configured = os.environ.get("AIOS_POSTGRES_BIN_DIR")
    if configured:
        return Path(configured)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise ConfigurationError("PostgreSQL is not installed: run `make env` as root (it installs Debian's "
                                 "postgresql), or set AIOS_POSTGRES_BIN_DIR")
    return Path(found[-1]).parent


def redis_server_path() -> Path:
    path = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(path).exists():
        raise ConfigurationError("redis-server is not installed: run `make env` as root (it installs Debian's "
                                 "redis-server)")
    return Path(path)


def wait_for_port(port: int, timeout: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


@dataclass
class LocalPostgres:
    """A PostgreSQL cluster in `root/data`, listening on 127.0.0.1:`port`, superuser `aios`.

    Its password is generated once into `root/password` (mode 0600). `durable=False` turns off
    fsync for throwaway clusters (tests); the scale profile keeps the defaults.
    """

    root: Path
    port: int = field(default_factory=free_port)
    durable: bool = True

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def password(self) -> str:
        return private_file(self.root / "password", lambda: secrets.token_urlsafe(24) + "\n").strip()

    def url(self, database: str = PG_USER) -> str:
        return f"postgresql+psycopg://{PG_USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _as_server_user(self, cmd: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd

    def _run(self, cmd: list[str]) -> None:
        result = subprocess.run(self._as_server_user(cmd), capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(cmd[0]).name} failed (exit {result.returncode}): "
                               f"{(result.stderr or result.stdout)[-2000:]}")

    def _prepare_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            return
        # The server runs as `postgres`: it must be able to walk down to its data directory.
        for parent in [self.root, *self.root.resolve().parents]:
            if not stat.S_IMODE(parent.stat().st_mode) & stat.S_IXOTH:
                raise ConfigurationError(f"PostgreSQL runs as the postgres user, which cannot enter {parent}; "
                                         "put its data directory somewhere it can (e.g. under /tmp or /var/lib)")

    def initialise(self) -> None:
        bin_dir = postgres_bin_dir()
        self._prepare_root()
        if (self.data / "PG_VERSION").exists():
            return
        _ = self.password  # generated before the cluster, so a cluster never exists without its password
        self.data.mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            server = pwd.getpwnam("postgres")
            os.chown(self.data, server.pw_uid, server.pw_gid)
        # Local (socket) connections are trusted: the socket lives in the data directory, which only
        # the server's user (and root) can enter. TCP connections need the password.
        self._run([str(bin_dir / "initdb"), "-D", str(self.data), "-U", PG_USER, "-E", "UTF8", "--no-locale",
                   "--auth-local=trust", "--auth-host=scram-sha-256"])

    def start(self, *, timeout: float = 60.0) -> LocalPostgres:
        self.initialise()
        bin_dir = postgres_bin_dir()
        options = [f"-p {self.port}", f"-k {self.data}", "-c listen_addresses=127.0.0.1", "-c max_connections=200"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run([str(bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "server.log"),
                   "-w", "-t", str(int(timeout)), "-o", " ".join(options), "start"])
        self._set_password()
        log.info("postgres.started port=%s data=%s", self.port, self.data)
        return self

    def _set_password(self) -> None:
        import psycopg

        with psycopg.connect(host=str(self.data), port=self.port, user=PG_USER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f"ALTER ROLE {PG_USER} PASSWORD '{self.password}'")
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_USER,)).fetchone():
                conn.execute(f'CREATE DATABASE "{PG_USER}"')

    def create_database(self, name: str) -> str:
        """Create database `name` (a fresh one for each test module, say) and return its URL."""
        import psycopg

        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a plain database name: {name!r}")
        with psycopg.connect(host=str(self.data), port=self.port, user=PG_USER, dbname="postgres",
                             autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        self._run([str(postgres_bin_dir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
        log.info("postgres.stopped port=%s", self.port)


@dataclass
class _LocalServer:
    """A server process on 127.0.0.1:`port`, its files in `root`."""

    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def stop(self) -> None:
        _terminate(self.process)


@dataclass
class LocalRedis(_LocalServer):
    """A Redis server with a generated password; keeps nothing on disk."""

    @property
    def password(self) -> str:
        return private_file(self.root / "redis-password", lambda: secrets.token_urlsafe(24) + "\n").strip()

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    def start(self, *, timeout: float = 30.0) -> LocalRedis:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "redis.conf"
        # The password goes in a 0600 file, not on the command line where `ps` shows it.
        private_file(config, lambda: f"requirepass {self.password}\n")
        self.process = subprocess.Popen(
            [str(redis_server_path()), str(config), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.root), "--logfile", str(self.root / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, timeout, "redis-server", self.process)
        log.info("redis.started port=%s", self.port)
        return self


def chroma_binary() -> Path:
    """The `chroma` command the chromadb wheel installs beside the environment's Python."""
    import chromadb

    path = Path(chromadb.__file__).resolve().parents[4] / "bin" / "chroma"
    if not path.exists():
        raise ConfigurationError(f"the Chroma server command is not installed at {path}")
    return path


@dataclass
class LocalChroma(_LocalServer):
    """A Chroma server keeping its data in `root`."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 60.0) -> LocalChroma:
        self.root.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
        with open(self.root / "chroma.log", "a") as log_file:
            self.process = subprocess.Popen(
                [str(chroma_binary()), "run", "--path", str(self.root / "data"), "--host", "127.0.0.1",
                 "--port", str(self.port)], stdout=log_file, stderr=subprocess.STDOUT, env=env)
        wait_for_port(self.port, timeout, "chroma", self.process)
        log.info("chroma.started port=%s", self.port)
        return self


def _terminate(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
