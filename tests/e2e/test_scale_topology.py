"""`aios up --profile scale` for real: PostgreSQL, Redis, a Chroma server, Temporal apart, llama-server,
two replicas of every service behind balancers, all on loopback, started by the project itself.

While alice's access request goes through bob and carol, one replica of each service is killed
(SIGKILL) and comes back, and a Slack retry storm hits both gateways: one workflow per submission,
one Slack reply per event, every card and notification delivered once, the audit chain verifies.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import httpx
import pytest

from app.local_stack import make_settings
from assistant.directory import Directory
from assistant.settings import PROJECT_DIR
from assistant.tokens import TokenService
from tests.e2e.conversation import Conversation, request_id_in
from tests.e2e.test_approvals_access import pending_cards, request_state, until
from tests.fakes.chat_stack import SLACK_IDS, chat_fakes
from tests.fakes.slack_api import dm
from tests.fakes.slack_driver import SlackDriver

KILLED = ("gateway-1", "rasa-1", "actions-1", "knowledge-1", "worker-1")


@pytest.fixture
async def topology():
    """The scale profile as a separate process tree; its var dir where PostgreSQL's user can reach it."""
    var = Path(tempfile.mkdtemp(prefix="aios-scale-"))
    os.chmod(var, 0o755)
    settings = make_settings(var)
    async with chat_fakes() as chat:
        chat.configure(settings)
        settings.teams.app_id = None  # Teams' outbound tokens need the in-process fake identity: not here
        env = os.environ | settings.to_env()
        env.pop("AIOS_TEAMS_APP_ID", None)
        log = (var / "up.log").open("w")
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "up", "--profile", "scale", "--replicas", "2"],
                                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            async def up() -> bool:
                assert proc.poll() is None, (var / "up.log").read_text()[-4000:]
                return "(scale profile) is up" in (var / "up.log").read_text()

            assert await until(up, bool, timeout=600), (var / "up.log").read_text()[-4000:]
            yield settings, chat, var / "scale"
        finally:
            print((var / "up.log").read_text()[-6000:])  # captured: pytest shows it and the logs only on failure
            _print_logs(var / "scale" / "logs")
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()
            shutil.rmtree(var, ignore_errors=True)


def token(settings, user: str) -> str:
    return TokenService(settings.core.secret_key.get_secret_value(), Directory.load(settings.core.directory_file),
                        ttl_seconds=3600).mint(user)


def client(settings, user: str, base_url: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url or settings.gateway.url, timeout=120,
                             headers={"Authorization": f"Bearer {token(settings, user)}"})


def kill(scale: Path, name: str) -> int:
    pid = int((scale / "logs" / f"{name}.pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    return pid


async def deliver(driver: SlackDriver, event: dict, event_id: str, retry: int | None = None) -> int:
    """One delivery as Slack makes it: a gateway that cannot be reached (being restarted) gets the
    event again a moment later, up to 30 times."""
    for _ in range(30):
        try:
            return (await driver.event(event, event_id=event_id, retry=retry)).status_code
        except httpx.TransportError:
            await asyncio.sleep(1)
    raise AssertionError(f"{event_id}: no gateway took it in 30 s")


async def slack_storm(chat, gateways: list[str], events: int) -> list[str]:
    """`events` distinct Slack events from dave, each delivered four times: once to each gateway at
    the same moment, then once more to each (Slack's retries after a timeout, to whichever replica)."""
    ids = []
    drivers = [SlackDriver(httpx.AsyncClient(base_url=g, timeout=60), chat.slack) for g in gateways]
    try:
        for n in range(events):
            event = SlackDriver.dm_event(SLACK_IDS["dave"], "hello" if n % 2 else "thanks")
            event_id = f"EvSTORM{n:04d}"
            ids.append(event_id)
            codes = await asyncio.gather(*(deliver(d, event, event_id) for d in drivers))
            codes += [await deliver(drivers[i % 2], event, event_id, retry=i + 1) for i in range(2)]
            assert set(codes) == {200}, codes
    finally:
        for d in drivers:
            await d.http.aclose()
    return ids


async def test_access_request_and_slack_storm_while_replicas_die(topology):
    settings, chat, scale = topology
    ports = json.loads((scale / "topology.json").read_text())
    gateways = [f"http://127.0.0.1:{p}" for p in ports["gateway"]]
    async with client(settings, "alice") as alice_http, client(settings, "bob") as bob_http:
        alice = Conversation(alice_http)
        await alice.say("I need write access to GitHub")
        await alice.say("to review pull requests for the mobile team")
        done = await alice.click("Yes, submit")
        request_id = request_id_in(done.text)
        assert request_id, alice.transcript()
        await until(lambda: request_state(alice_http, request_id), lambda s: bool(s.get("approvals")))
        await until(lambda: pending_cards(bob_http), lambda c: any(x["request_id"] == request_id for x in c))

    killed = {name: kill(scale, name) for name in KILLED}
    storm = asyncio.create_task(slack_storm(chat, gateways, events=6))

    # Their browsers' connections went down with gateway-1: the next requests open new ones.
    async with client(settings, "alice") as alice_http, client(settings, "bob") as bob_http, \
            client(settings, "carol") as carol_http:
        bob = Conversation(bob_http)
        # The chat lists bob's approvals from Temporal's visibility store, which follows the workflow
        # by a moment (more on a loaded machine): he asks again, as a person would.
        for _ in range(15):
            listing = await bob.say("what do I need to approve")
            if request_id in listing.text:
                break
            await asyncio.sleep(2)
        assert request_id in listing.text, bob.transcript()
        approved = await bob.click(f"Approve {request_id}")
        assert f"approved {request_id}".lower() in approved.text.lower(), bob.transcript()

        cards = await until(lambda: pending_cards(carol_http), lambda c: any(x["request_id"] == request_id for x in c),
                            timeout=120)
        second = next(c for c in cards if c["request_id"] == request_id)
        r = await carol_http.post(f"/api/approvals/{second['approval_id']}/decision",
                                  json={"decision": "approve", "params_hash": second["params_hash"]})
        assert r.status_code == 200, r.text
        final = await until(lambda: request_state(alice_http, request_id), lambda s: s.get("state") == "completed",
                            timeout=120)
        assert final["state"] == "completed", final
        storm_ids = await storm

        mine = (await alice_http.get("/api/requests")).json()["requests"]
        assert [m["request_id"] for m in mine] == [request_id]  # one workflow for the one submission

    # Every killed replica came back as a new process.
    for name, pid in killed.items():
        assert await until(lambda n=name: _pid(scale, n), lambda p, old=pid: p not in (None, old), timeout=60), name

    # Slack: one reply per storm event; alice's notifications and bob's card once each.
    await asyncio.sleep(3)  # the outbox dispatchers poll every 0.5 s: let any duplicate show up
    dave_replies = [c for c in chat.slack.called("chat.postMessage") if c.args.get("channel") in
                    (SLACK_IDS["dave"], dm(SLACK_IDS["dave"]))]
    assert len(dave_replies) == len(storm_ids), [c.args.get("text") for c in dave_replies]
    alice_posts = Counter(c.args.get("text") for c in chat.slack.called("chat.postMessage")
                          if c.args.get("channel") in (SLACK_IDS["alice"], dm(SLACK_IDS["alice"])))
    about = {t: n for t, n in alice_posts.items() if t and request_id in t}
    assert about and set(about.values()) == {1}, alice_posts
    to_bob = (SLACK_IDS["bob"], dm(SLACK_IDS["bob"]))
    bob_cards = [c for c in chat.slack.called("chat.postMessage")
                 if c.args.get("channel") in to_bob and request_id in json.dumps(c.args)]
    assert len(bob_cards) == 1, bob_cards
    updates = [c for c in chat.slack.called("chat.update") if request_id in json.dumps(c.args)]
    assert len(updates) == 1, updates

    # The audit chain of the whole run verifies.
    env_file = scale / "settings.env"
    env = os.environ | dict(_env_lines(env_file))
    verified = subprocess.run([str(PROJECT_DIR / ".venv" / "bin" / "aios"), "audit", "verify"], env=env,
                              capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def _pid(scale: Path, name: str) -> int | None:
    try:
        return int((scale / "logs" / f"{name}.pid").read_text())
    except (OSError, ValueError):
        return None


def _env_lines(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        out.append((key, shlex.split(value)[0] if value else ""))
    return out


def _print_logs(logs: Path) -> None:
    for path in sorted(logs.glob("*.log")):
        print(f"===== {path.name} (last lines)")
        print("\n".join(path.read_text(errors="replace").splitlines()[-25:]))
