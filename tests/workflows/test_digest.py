"""The weekly digest: one per person, in their channel, at their local Monday 09:00, on the time-skipping server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from app.local_stack import make_settings, start_temporal
from assistant.directory import Directory, User
from assistant.settings import Settings
from assistant.settings.digest import DigestSettings
from channels.notify.dispatcher import Dispatcher
from tests.workflows.conftest import Rig, it_ticket, rig_settings, running_rig, stop_worker, time_off
from workflows.client import RequestsClient
from workflows.digest.activities import zone
from workflows.digest.models import DigestPlan, DigestResult, notify_key, workflow_id
from workflows.digest.preferences import DigestPreferences
from workflows.digest.sync import keep_digests, next_sends, sync_digests
from workflows.digest.text import HOW_TO_STOP
from workflows.digest.timing import iso_week, next_send
from workflows.digest.workflow import DigestWorkflow
from workflows.models import RequestState
from workflows.notify.models import Notification
from workflows.notify.outbox import notifications
from workflows.worker import build_worker

HEADING = "Your weekly digest"
PARIS, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")
NINE = time(9, 0)


# ---- the send time on a person's clock (pure) -------------------------------------------------

def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("after", "tz", "expected"), [
    # Paris is UTC+1 in winter: Monday 09:00 is 08:00 UTC; a Monday before 09:00 is that same day.
    (utc(2027, 3, 17, 12), PARIS, utc(2027, 3, 22, 8)),
    (utc(2027, 3, 22, 7, 59), PARIS, utc(2027, 3, 22, 8)),
    (utc(2027, 3, 22, 8), PARIS, utc(2027, 3, 29, 7)),  # exactly at the send: the next week
    # Summer time starts on Sunday 28 March 2027 in Europe: the next Monday's 09:00 is 07:00 UTC.
    (utc(2027, 3, 27, 12), PARIS, utc(2027, 3, 29, 7)),
    # New York changed two weeks earlier (14 March): 09:00 EDT is 13:00 UTC, 09:00 EST was 14:00.
    (utc(2027, 3, 10), NEW_YORK, utc(2027, 3, 15, 13)),
    (utc(2027, 3, 3), NEW_YORK, utc(2027, 3, 8, 14)),
    # Back in autumn (Europe on 31 October 2027): 08:00 UTC again.
    (utc(2027, 10, 30), PARIS, utc(2027, 11, 1, 8)),
    # Sunday evening in New York is already Monday in UTC: still the coming local Monday.
    (utc(2027, 3, 15, 1), NEW_YORK, utc(2027, 3, 15, 13)),
])
def test_the_next_send_is_the_local_monday_at_nine(after, tz, expected):
    at, week = next_send(after, tz, weekday=0, at=NINE)
    assert at == expected
    assert week == iso_week(expected.astimezone(tz).date())


def test_a_week_already_sent_is_skipped_and_a_skipped_hour_moves_later():
    at, week = next_send(utc(2027, 3, 22, 7), PARIS, weekday=0, at=time(10, 0), skip_week="2027-W12")
    assert (at, week) == (utc(2027, 3, 29, 8), "2027-W13")
    # 02:30 does not exist on 28 March 2027 in Paris: the digest comes at 03:30 summer time.
    at, _ = next_send(utc(2027, 3, 27), PARIS, weekday=6, at=time(2, 30))
    assert at == utc(2027, 3, 28, 1, 30) and at.astimezone(PARIS).hour == 3


def test_an_unknown_timezone_is_read_as_utc():
    assert zone("Mars/Olympus").key == "UTC" and zone("../etc/passwd").key == "UTC"
    assert zone("America/New_York") == NEW_YORK


def test_the_weekday_and_time_setting_are_checked():
    assert DigestSettings(weekday="friday", local_time="17:30").weekday_number == 4
    for bad in ("9:00", "24:00", "09:60", "nine"):
        with pytest.raises(ValueError):
            DigestSettings(local_time=bad)
    with pytest.raises(ValueError):
        DigestSettings(weekday="someday")


# ---- the digest workflows on the time-skipping server ------------------------------------------

@pytest.fixture
async def dev(tmp_path):
    """Its own dev server: the digest lists a person's requests from visibility, which the time-skipping
    server does not implement (nor Schedules), and the shared server holds other tests' requests."""
    env = await start_temporal(make_settings(tmp_path / "dev"))
    yield env
    await env.shutdown()


@asynccontextmanager
async def digest_worker(client: Client, settings: Settings, *,
                        requests: RequestsClient | None = None) -> AsyncIterator[str]:
    """The production worker (`build_worker`) on `client`'s server, on its own task queue."""
    queue = f"digest-{uuid.uuid4().hex[:10]}"
    worker = build_worker(client, settings, task_queue=queue, requests=requests)
    running = asyncio.create_task(worker.run())
    try:
        yield queue
    finally:
        await stop_worker(worker, running)


def local_monday_nine(after: datetime, user: User) -> datetime:
    """What the person expects: the first Monday 09:00 on their own clock after `after` (written out
    day by day here, independently of workflows.digest.timing)."""
    tz = ZoneInfo(user.timezone)
    day: date = after.astimezone(tz).date()
    while True:
        moment = datetime(day.year, day.month, day.day, 9, 0, tzinfo=tz)
        if day.weekday() == 0 and moment > after:
            return moment.astimezone(UTC)
        day += timedelta(days=1)


def digests(rig: Rig, user: str) -> list[Notification]:
    return [n for n in rig.outbox.inbox(user) if n.kind == "message" and n.text.startswith(HEADING)]


def digest_keys(rig: Rig) -> set[str]:
    with rig.engine.connect() as conn:
        return {k for k in conn.execute(select(notifications.c.batch_key)).scalars() if k.startswith("digest:")}


async def planned(client: Client, user: str, *, timeout: float = 20.0) -> DigestPlan:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            plan = await client.get_workflow_handle(workflow_id(user)).query(DigestWorkflow.next_send)
            if plan is not None:
                return plan
        except Exception:  # noqa: BLE001 - the first workflow task may not have run yet
            pass
        assert asyncio.get_running_loop().time() < deadline, f"{user}'s digest was never planned"
        await asyncio.sleep(0.05)


async def until(check, *, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def skip_to(env: WorkflowEnvironment, moment: datetime) -> None:
    now = await env.get_current_time()
    if moment > now:
        await env.sleep(moment - now)


class Recording:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.got: list[tuple[str, str]] = []

    async def deliver(self, notification: Notification, user: User) -> None:
        self.got.append((user.id, notification.text))


async def test_each_person_gets_one_digest_in_their_channel_at_their_local_monday_nine(skipping, dev, tmp_path):
    """The digest workflows and their worker on the time-skipping server; the requests they report on
    run on a dev server (the time-skipping server has no visibility to list them), one outbox."""
    env = skipping
    async with (running_rig(dev.client, tmp_path) as rig,
                digest_worker(env.client, rig.settings, requests=rig.requests) as queue):
        directory = Directory.load(rig.settings.core.directory_file)
        people = {u.id: u for u in directory}
        prefs = DigestPreferences(rig.engine)
        prefs.set("erin", False)  # opted out before the digests are planned

        start = await env.get_current_time()
        expected = {u: local_monday_nine(start, people[u]) for u in people}
        kept = await keep_digests(env.client, directory, task_queue=queue)
        assert await keep_digests(env.client, directory, task_queue=queue) == kept == sorted(people)
        for user in people:
            plan = await planned(env.client, user)
            assert plan.send_at == expected[user], user
            assert plan.local.startswith("Mon ") and " 09:00 " in plan.local, plan.local
        prefs.set("frank", False)  # after the plan: the opt-out is read when the digest is sent

        # Something to report, an hour before the first digest: alice's time off waits for bob;
        # carol's IT ticket needs no approval and is done at once.
        await skip_to(env, min(expected.values()) - timedelta(hours=1))
        leave = await rig.submit(time_off(2), requester="alice")
        await rig.pending_stage(leave)
        ticket = await rig.submit(it_ticket(), requester="carol")
        await rig.wait_for(ticket, lambda s: s.state is RequestState.COMPLETED)

        receivers = set(people) - {"erin", "frank"}
        # The digests go out zone by zone: Paris and Berlin first, then London, then New York.
        for moment in sorted(set(expected.values())):
            due = {u for u in people if expected[u] == moment}
            await skip_to(env, moment - timedelta(minutes=1))
            assert all(digests(rig, u) == [] for u in due), "a digest came before its local time"
            await skip_to(env, moment + timedelta(minutes=1))
            await until(lambda due=due: all(len(digests(rig, u)) == 1 for u in due & receivers))
            later = {u for u in people if expected[u] > moment}
            assert all(digests(rig, u) == [] for u in later), "a digest came before its local time"
        for user in ("erin", "frank"):
            assert digests(rig, user) == [], f"{user} opted out"

        text = {u: digests(rig, u)[0].text for u in receivers}
        for user in receivers:
            day = expected[user].astimezone(ZoneInfo(people[user].timezone))
            assert text[user].startswith(f"{HEADING}, Monday {day.day} {day:%B}."), text[user]
            assert HOW_TO_STOP in text[user]
        assert "Open requests (1):" in text["alice"] and leave in text["alice"]
        assert "Waiting for your decision (1)" in text["bob"] and f"{leave}: alice's time off" in text["bob"]
        assert "Finished in the last 7 days (1):" in text["carol"] and f"{ticket}: IT ticket, done" in text["carol"]
        assert "Nothing open" in text["dave"]

        # Each digest in the person's preferred channel, through the gateway's dispatcher.
        notifiers = {c: Recording(c) for c in ("web", "slack", "teams")}
        dispatcher = Dispatcher(rig.outbox, directory, list(notifiers.values()))
        while await dispatcher.dispatch_once():
            pass
        delivered = {user: channel for channel, n in notifiers.items() for user, t in n.got if t.startswith(HEADING)}
        assert delivered == {u: people[u].preferred_channel for u in receivers}

        # A re-sync re-plans every workflow: still no second digest before each person's next local
        # Monday 09:00; then the next one (frank's first: he opted in again; erin still none).
        await keep_digests(env.client, directory, task_queue=queue)
        prefs.set("frank", True)
        second = {u: local_monday_nine(expected[u], people[u]) for u in people}
        before = {u: len(digests(rig, u)) for u in people}
        after = {u: before[u] + (u != "erin") for u in people}
        for moment in sorted(set(second.values())):
            due = {u for u in people if second[u] == moment}
            await skip_to(env, moment - timedelta(minutes=1))
            assert all(len(digests(rig, u)) == before[u] for u in due), "a second digest in one week"
            await skip_to(env, moment + timedelta(minutes=1))
            await until(lambda due=due: all(len(digests(rig, u)) == after[u] for u in due))
        assert before["frank"] == before["erin"] == 0 and after["erin"] == 0

        def week(moment: datetime, user: str) -> str:
            return iso_week(moment.astimezone(ZoneInfo(people[user].timezone)).date())

        assert digest_keys(rig) == ({notify_key(u, week(expected[u], u)) for u in receivers}
                                    | {notify_key(u, week(second[u], u)) for u in receivers | {"frank"}})


async def test_sync_keeps_one_workflow_per_person_and_a_person_who_left_gets_none(dev, tmp_path):
    """On a dev server (real visibility): the worker's directory lost dave; the sync still names him
    (it ran with the old directory), so his workflow starts, finds him gone and ends; a second sync
    with a directory that lost erin too signals hers to re-plan (and so to end on a worker that
    knows)."""
    settings = rig_settings(tmp_path)
    full = Directory.load(settings.core.directory_file)
    without_dave = tmp_path / "directory.yml"
    raw = yaml.safe_load(settings.core.directory_file.read_text())
    raw["users"] = [u for u in raw["users"] if u["id"] != "dave"]
    without_dave.write_text(yaml.safe_dump(raw))
    settings.core.directory_path = without_dave
    async with digest_worker(dev.client, settings) as queue:
        report = await sync_digests(dev.client, full, settings.digest, task_queue=queue)
        assert report.kept == sorted(u.id for u in full) and report.stopping == []
        ended = await dev.client.get_workflow_handle(workflow_id("dave"), result_type=DigestResult).result()
        assert ended.stopped == "not in the directory"
        for user in sorted(u.id for u in full if u.id != "dave"):
            plan = await planned(dev.client, user)
            assert plan.active and plan.send_at == local_monday_nine(datetime.now(UTC), full.get(user)), user

        again = await sync_digests(dev.client, Directory.load(without_dave), settings.digest, task_queue=queue)
        assert "dave" not in again.kept and again.stopping == []  # dave's ended already: nothing to stop
        raw["users"] = [u for u in raw["users"] if u["id"] != "erin"]
        without_dave.write_text(yaml.safe_dump(raw))
        third = await sync_digests(dev.client, Directory.load(without_dave), settings.digest, task_queue=queue)
        assert third.stopping == [workflow_id("erin")]
        plans = await next_sends(dev.client, full)
        assert plans["dave"] is not None and not plans["dave"].active
        assert all(plans[u] is not None and plans[u].active for u in plans if u != "dave")
