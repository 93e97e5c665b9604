"""The gateway's small SQL stores on SQLite and on PostgreSQL, as several replicas use them: the
first delivery of an event claims it once however many arrive at once, links and card copies are
written once whoever writes them, a delegation replaces the one before."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from microsoft_agents.activity import ConversationReference

from assistant.directory import Directory
from assistant.settings import PROJECT_DIR
from channels.dedup import EventClaims
from channels.identity import ChannelIdentity
from channels.notify.copies import CardCopies
from channels.teams.references import ConversationReferences
from tests.dbs import migrated
from workflows.delegations import Delegations


def at_once(n: int, work) -> list:
    """`work(i)` in `n` threads released together (each its own engine: another replica)."""
    results: list = [None] * n
    go = threading.Barrier(n)

    def run(i: int) -> None:
        go.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_one_claim_per_event_among_replicas(database_url):
    replicas = [EventClaims(migrated(database_url)) for _ in range(4)]
    won = at_once(4, lambda i: replicas[i].claim("slack:EvSAME0001"))
    assert sorted(won) == [False, False, False, True]
    replicas[0].release("slack:EvSAME0001")  # the winner failed: the sender's next retry does the work
    assert replicas[1].claim("slack:EvSAME0001")


async def test_a_learned_link_is_written_once_and_found_by_every_replica(database_url):
    directory = Directory.load(PROJECT_DIR / "data" / "directory.yml")

    async def email(_: str) -> str:
        return "carol@example.com"

    replicas = [ChannelIdentity(directory, migrated(database_url), channel="slack", cache_seconds=0)
                for _ in range(3)]
    users = await asyncio.gather(*(r.resolve("U0NEWC4R0L", email=email) for r in replicas))
    assert {u.id for u in users} == {"carol"}
    fresh = ChannelIdentity(directory, migrated(database_url), channel="slack")
    assert (await fresh.resolve("U0NEWC4R0L")).id == "carol"  # from SQL, no e-mail lookup


def test_card_copies_and_conversation_references_are_written_once(database_url):
    copies = [CardCopies(migrated(database_url)) for _ in range(3)]
    at_once(3, lambda i: copies[i].add("REQ-ABCDEF-1", "bob", "slack", "D0B0B:171.1", {"ts": "171.1"}))
    assert [c.location for c in copies[0].find("REQ-ABCDEF-1", channel="slack")] == ["D0B0B:171.1"]
    refs = ConversationReferences(migrated(database_url))
    for url in ("https://smba.one/", "https://smba.two/"):
        refs.save("bob", ConversationReference(service_url=url, channel_id="msteams", conversation={"id": "a:1"}),
                  tenant_id="t1")
    assert refs.get("bob").service_url == "https://smba.two/"


def test_a_new_delegation_replaces_the_current_one(database_url):
    store = Delegations(migrated(database_url))
    now = datetime.now(UTC)
    store.set("bob", "carol", ends_at=now + timedelta(days=3))
    second = store.set("bob", "erin", ends_at=now + timedelta(days=5), note="holiday")
    assert store.current("bob") == second and store.active_for("bob", now + timedelta(minutes=1)).delegate == "erin"
    assert store.revoke("bob") and store.current("bob") is None and store.latest("bob") == second
