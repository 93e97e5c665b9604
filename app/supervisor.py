"""Start child services in order, wait until each is ready, and stop them all together."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


class ServiceFailed(Exception):
    def __init__(self, name: str, reason: str, log_tail: str, *, while_starting: bool = True) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason
        self.log_tail = log_tail
        self.while_starting = while_starting


def exit_description(code: int) -> str:
    """`code -11 (SIGSEGV)` rather than a bare negative number."""
    if code < 0:
        try:
            return f"code {code} ({signal.Signals(-code).name})"
        except ValueError:
            pass
    return f"code {code}"


@dataclass
class Service:
    name: str
    argv: list[str]  # empty: an external service we only wait for
    ready: Callable[[], Awaitable[bool]]
    env: dict[str, str] | None = None
    cwd: Path | None = None
    timeout: float = 120.0
    ports: tuple[tuple[str, int], ...] = ()
    # Started again when it exits after start-up (replicas of the scale profile) instead of stopping
    # everything; giving up after RESTARTS_PER_MINUTE exits within a minute.
    restart: bool = False


RESTARTS_PER_MINUTE = 5


@dataclass
class _Running:
    service: Service
    process: subprocess.Popen
    log_path: Path
    started: float = field(default_factory=time.monotonic)
    restarts: list[float] = field(default_factory=list)


def die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Children get SIGTERM if the supervisor itself is killed (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Supervisor:
    def __init__(self, logs_dir: Path, *, out: TextIO = sys.stderr) -> None:
        self.logs_dir = logs_dir
        self.out = out
        self.running: list[_Running] = []

    def say(self, msg: str) -> None:
        print(msg, file=self.out, flush=True)

    async def start(self, service: Service) -> None:
        """Spawn `service` and wait until it reports ready; ServiceFailed if it dies or times out."""
        for host, port in service.ports:
            if port_in_use(host, port):
                raise ServiceFailed(service.name, f"port {host}:{port} is already in use "
                                    "(another `make run`? change the port setting)", "")
        if not service.argv:
            await self._wait_external(service)
            return
        running = self._spawn(service)
        process, log_path = running.process, running.log_path
        self.running.append(running)
        self.say(f"  starting {service.name} (log: {log_path})")
        deadline = time.monotonic() + service.timeout
        while True:
            if process.poll() is not None:
                raise ServiceFailed(service.name, f"exited with {exit_description(process.returncode)} while starting",
                                    tail(log_path))
            # A service started earlier that dies now is the failure to report (this one may never
            # get ready without it), unless it is one to start again.
            self._restart_dead()
            if (dead := self._dead(self.running[:-1])) is not None:
                raise dead
            try:
                if await service.ready():
                    self.say(f"  {service.name} ready in {time.monotonic() - running.started:.1f}s")
                    return
            except Exception:  # noqa: BLE001 - not ready yet, whatever the reason
                pass
            if time.monotonic() > deadline:
                raise ServiceFailed(service.name, f"not ready after {service.timeout:.0f}s", tail(log_path))
            await asyncio.sleep(0.5)

    def _spawn(self, service: Service) -> _Running:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.logs_dir / f"{service.name}.log"
        with open(log_path, "a", buffering=1) as log_file:
            log_file.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(service.argv)}\n")
            process = subprocess.Popen(
                service.argv, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=service.env, cwd=service.cwd, start_new_session=True, preexec_fn=die_with_parent,
            )
        # Which process is which, for an operator (or a test) who wants to signal one.
        (self.logs_dir / f"{service.name}.pid").write_text(f"{process.pid}\n")
        return _Running(service, process, log_path)

    def _restart_dead(self) -> None:
        """Start again each restartable service that exited (a killed replica comes back)."""
        now = time.monotonic()
        for i, r in enumerate(self.running):
            if not r.service.restart or r.process.poll() is None:
                continue
            recent = [t for t in r.restarts if now - t < 60]
            if len(recent) >= RESTARTS_PER_MINUTE:
                continue  # reported as dead by `_dead`: it keeps failing
            self.say(f"  {r.service.name} exited with {exit_description(r.process.returncode)}; restarting it")
            fresh = self._spawn(r.service)
            fresh.restarts = [*recent, now]
            self.running[i] = fresh

    @staticmethod
    def _dead(running: list[_Running]) -> ServiceFailed | None:
        """The first service that exited and will not be started again (a replica that keeps failing)."""
        now = time.monotonic()
        for r in running:
            if r.service.restart and len([t for t in r.restarts if now - t < 60]) < RESTARTS_PER_MINUTE:
                continue  # `_restart_dead` starts it again on its next look (it may have died just now)
            if r.process.poll() is not None:
                return ServiceFailed(r.service.name,
                                     f"exited unexpectedly with {exit_description(r.process.returncode)}",
                                     tail(r.log_path), while_starting=False)
        return None

    async def _wait_external(self, service: Service) -> None:
        deadline = time.monotonic() + service.timeout
        while True:
            try:
                if await service.ready():
                    self.say(f"  {service.name} (external) ready")
                    return
            except Exception:  # noqa: BLE001 - not ready yet
                pass
            if time.monotonic() > deadline:
                raise ServiceFailed(service.name, f"not reachable after {service.timeout:.0f}s", "")
            await asyncio.sleep(0.5)

    async def watch(self, stop: asyncio.Event) -> ServiceFailed | None:
        """Until `stop` is set or a child exits; returns the failure of a dead child."""
        while not stop.is_set():
            self._restart_dead()
            if (dead := self._dead(self.running)) is not None:
                return dead
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except TimeoutError:
                pass
        return None

    async def run(self, services: list[Service], stop: asyncio.Event, *, banner: str) -> ServiceFailed | None:
        """Start `services` in order, say `banner`, then watch until `stop`: the failure, if any.
        The caller stops everything (`stop_all`) whatever happened."""
        try:
            for service in services:
                if stop.is_set():
                    return None
                await self.start(service)
            if stop.is_set():
                return None
            self.say(banner)
            return await self.watch(stop)
        except ServiceFailed as exc:
            return exc

    def report(self, failure: ServiceFailed | None) -> None:
        if failure is not None:
            self.say(f"\nERROR: {failure.name} {failure.reason}. Last lines of its log:\n{failure.log_tail}\n")
        self.say("Stopping all services...")

    def stop_all(self, *, grace: float = 15.0) -> None:
        """Stop in reverse start order: SIGTERM, then SIGKILL after `grace` seconds."""
        for r in reversed(self.running):
            if r.process.poll() is None:
                self.say(f"  stopping {r.service.name}")
                _signal_group(r.process, signal.SIGTERM)
                try:
                    r.process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    self.say(f"  {r.service.name} did not stop in {grace:.0f}s; killing it")
                    _signal_group(r.process, signal.SIGKILL)
                    r.process.wait(timeout=5)
        self.running.clear()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
