"""The audit trail's secrets and signed checkpoints: files outside the database it protects.

The chain key (HMAC-SHA256) and the Ed25519 signing key are generated on first use with mode 0600,
like the install secret. Checkpoints are one signed JSON line each, appended with O_APPEND to a
file that, in a deployment, the database's writers cannot change (another owner, `chattr +a`, or a
copy shipped off the machine through the `audit.checkpoint` log line).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import URL, Engine
from sqlalchemy.engine import make_url

from assistant.errors import ConfigurationError
from assistant.settings import AuditSettings, private_file

if TYPE_CHECKING:
    from assistant.settings import Settings

log = logging.getLogger(__name__)

KEY_FILE = "audit.key"
SIGNING_KEY_FILE = "audit-signing.key"
CHECKPOINT_FILE = "audit-checkpoints.jsonl"
CHECKPOINT_FORMAT = "aios-audit-checkpoint-1"  # signed with every checkpoint, so no other signed text passes


@dataclass(frozen=True)
class AuditFiles:
    """Where the chain's key, the signing key and the checkpoints live: never in the database."""

    key_file: Path
    signing_key_file: Path
    checkpoint_file: Path
    checkpoint_every: int = 1
    lock_checkpoints: bool = False

    @classmethod
    def from_settings(cls, settings: AuditSettings, *, database_url: str | URL, var_dir: Path) -> AuditFiles:
        """The configured files; by default beside a SQLite database file (var/), else in `var_dir`."""
        base = sqlite_dir(database_url) or var_dir
        return cls(
            key_file=settings.key_file or base / KEY_FILE,
            signing_key_file=settings.signing_key_file or base / SIGNING_KEY_FILE,
            checkpoint_file=settings.checkpoint_file or base / CHECKPOINT_FILE,
            checkpoint_every=settings.checkpoint_every,
            lock_checkpoints=settings.lock_checkpoints,
        )


def audit_files(settings: Settings, database_url: str | None = None) -> AuditFiles:
    """The audit files of an install, for entry points to hand to `AuditLog`."""
    url = database_url or settings.core.database_url
    return AuditFiles.from_settings(settings.audit, database_url=url, var_dir=settings.core.var_dir)


def files_from_environment(engine: Engine) -> AuditFiles:
    """For callers that pass no files: the AIOS_AUDIT_* settings, found as the entry points find them."""
    base = sqlite_dir(engine.url)
    if base is None:
        from assistant.settings import CoreSettings

        base = CoreSettings().var_dir
    return AuditFiles.from_settings(AuditSettings(), database_url=engine.url, var_dir=base)


def sqlite_dir(database_url: str | URL) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve().parent


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Checkpoint:
    """Signed: the chain's head was `head_hash` at record `seq`; records up to `legacy_until` are plain SHA-256."""

    seq: int
    head_hash: str
    at: str
    legacy_until: int
    signature: str = ""

    def payload(self) -> bytes:
        return canonical([CHECKPOINT_FORMAT, self.seq, self.head_hash, self.at, self.legacy_until]).encode()

    def line(self) -> str:
        return json.dumps({"seq": self.seq, "head_hash": self.head_hash, "at": self.at,
                           "legacy_until": self.legacy_until, "signature": self.signature}, sort_keys=True) + "\n"

    @classmethod
    def parse(cls, line: str) -> Checkpoint:
        """One line of the checkpoint file; ValueError when it is not one."""
        try:
            raw = json.loads(line)
            cp = cls(seq=raw["seq"], head_hash=raw["head_hash"], at=raw["at"], legacy_until=raw["legacy_until"],
                     signature=raw["signature"])
        except (KeyError, TypeError) as exc:
            raise ValueError(str(exc)) from exc
        if not (isinstance(cp.seq, int) and isinstance(cp.legacy_until, int) and isinstance(cp.head_hash, str)
                and isinstance(cp.at, str) and isinstance(cp.signature, str)):
            raise ValueError("a field of the wrong type")
        return cp


class AuditKeys:
    """The chain key and the signer, read (or made) on first use, and the checkpoint file they sign."""

    def __init__(self, files: AuditFiles) -> None:
        self.files = files
        self._key: bytes | None = None
        self._signer: Ed25519PrivateKey | None = None

    def chain_key(self, *, create: bool) -> bytes | None:
        """The HMAC key; None when it does not exist and `create` is off (verify never makes one)."""
        if self._key is None:
            path = self.files.key_file
            if not create and not path.exists():
                return None
            text = private_file(path, lambda: secrets.token_hex(32) + "\n").strip()
            try:
                key = bytes.fromhex(text)
            except ValueError:
                key = b""
            if len(key) < 32:
                raise ConfigurationError(f"{path} holds no usable audit key; restore it from a backup (a new "
                                         "key cannot check the records chained with the old one)")
            self._key = key
        return self._key

    def signing_key(self, *, create: bool) -> Ed25519PrivateKey | None:
        if self._signer is None:
            path = self.files.signing_key_file
            if not create and not path.exists():
                return None
            pem = private_file(path, _new_signing_key)
            try:
                key = serialization.load_pem_private_key(pem.encode(), password=None)
            except (ValueError, TypeError):
                key = None
            if not isinstance(key, Ed25519PrivateKey):
                raise ConfigurationError(f"{path} holds no Ed25519 private key; restore it from a backup")
            self._signer = key
        return self._signer

    def has_checkpoints(self) -> bool:
        try:
            return self.files.checkpoint_file.stat().st_size > 0
        except FileNotFoundError:
            return False

    def write_checkpoint(self, seq: int, head_hash: str, legacy_until: int) -> Checkpoint:
        """Sign the head and append it; only for records already committed."""
        signer = self.signing_key(create=True)
        if signer is None:  # cannot happen: create=True makes the key or raises
            raise ConfigurationError(f"no signing key at {self.files.signing_key_file}")
        cp = Checkpoint(seq, head_hash, datetime.now(UTC).isoformat(timespec="seconds"), legacy_until)
        cp = replace(cp, signature=signer.sign(cp.payload()).hex())
        path = self.files.checkpoint_file
        new = not path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: one write() of one short line lands whole at the end, even with other writers.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, cp.line().encode())
        finally:
            os.close(fd)
        if new and self.files.lock_checkpoints:
            _make_append_only(path)
        log.info("audit.checkpoint %s", cp.line().strip())  # a copy for syslog or a log shipper
        return cp

    def checkpoints(self) -> tuple[list[Checkpoint], list[str]]:
        """The checkpoints whose signature holds, in file order, and a problem for every line that does not."""
        try:
            text = self.files.checkpoint_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return [], []
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if not lines:
            return [], []
        signer = self.signing_key(create=False)
        if signer is None:
            return [], [f"the signing key {self.files.signing_key_file} is missing: no checkpoint can be checked"]
        public = signer.public_key()
        good: list[Checkpoint] = []
        problems: list[str] = []
        for n, line in lines:
            try:
                cp = Checkpoint.parse(line)
                public.verify(bytes.fromhex(cp.signature), cp.payload())
            except ValueError:
                problems.append(f"checkpoint line {n}: not a checkpoint (damaged or forged)")
                continue
            except InvalidSignature:
                problems.append(f"checkpoint line {n}: bad signature (forged or altered)")
                continue
            good.append(cp)
        return good, problems

    def first_checkpoint(self) -> Checkpoint | None:
        """The first line with a good signature, reading no further (the file grows with the log)."""
        if not self.has_checkpoints():
            return None
        signer = self.signing_key(create=False)
        if signer is not None:
            public = signer.public_key()
            with self.files.checkpoint_file.open(encoding="utf-8") as fh:
                for line in fh:
                    try:
                        cp = Checkpoint.parse(line)
                        public.verify(bytes.fromhex(cp.signature), cp.payload())
                    except (ValueError, InvalidSignature):
                        continue
                    return cp
        log.error("audit.checkpoints.unreadable file=%s: no line carries a valid signature",
                  self.files.checkpoint_file)
        return None


def _new_signing_key() -> str:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _make_append_only(path: Path) -> None:
    """Best effort: with the append-only attribute the kernel refuses to rewrite or truncate the file."""
    chattr = shutil.which("chattr")
    if chattr is None:
        log.warning("audit.checkpoints.not_locked file=%s reason=no chattr", path)
        return
    try:
        done = subprocess.run([chattr, "+a", str(path)], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("audit.checkpoints.not_locked file=%s reason=%s", path, exc)
        return
    if done.returncode:
        log.warning("audit.checkpoints.not_locked file=%s reason=%s", path, done.stderr.strip())
