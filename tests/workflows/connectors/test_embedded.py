"""The embedded systems behave like the real ones: balances, memberships, ticket numbers, idempotency."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest

from tests.dbs import migrated
from workflows.connectors.embedded import (
    EmbeddedExpenses,
    EmbeddedHR,
    EmbeddedIdentity,
    EmbeddedITSM,
    seed_groups,
)
from workflows.connectors.errors import ConnectorNotFound, ConnectorPermanentError
from workflows.connectors.models import ExpenseClaim, LeaveRequest, MembershipRequest, TicketRequest


@pytest.fixture
def engine(database_url):
    """The embedded systems on SQLite and on PostgreSQL."""
    engine = migrated(database_url)
    seed_groups(engine, groups=["github-read", "github-write"])
    yield engine
    engine.dispose()


def leave(key: str, start: date, end: date, leave_type: str = "vacation") -> LeaveRequest:
    return LeaveRequest(key=key, request_id=key[:10], user="alice", email="alice@example.com", start=start, end=end,
                        leave_type=leave_type)


async def test_leave_counts_working_days_against_the_balance_and_refuses_overdraft(engine):
    hr = EmbeddedHR(engine)
    first = await hr.record_leave(leave("REQ-AAAAAA:hr", date(2027, 3, 1), date(2027, 3, 12)))  # two weeks
    assert first.days == 10 and first.balance_after == 15
    assert await hr.record_leave(leave("REQ-AAAAAA:hr", date(2027, 3, 1), date(2027, 3, 12))) == first
    await hr.record_leave(leave("REQ-BBBBBB:hr", date(2027, 4, 5), date(2027, 4, 23)))  # 15 more
    with pytest.raises(ConnectorPermanentError) as refused:
        await hr.record_leave(leave("REQ-CCCCCC:hr", date(2027, 5, 3), date(2027, 5, 3)))
    assert refused.value.code == "insufficient_balance" and not refused.value.retryable
    sick = await hr.record_leave(leave("REQ-DDDDDD:hr", date(2027, 5, 3), date(2027, 5, 4), "sick"))
    assert sick.balance_after is None
    assert hr.balance("alice", "vacation", 2027) == 0


def test_two_requests_at_once_cannot_both_spend_the_last_days(database_url):
    """Two workers record leave for one person at the same moment (each its own engine): the balance
    takes one, refuses the other, and ends exact."""
    import threading

    hrs = [EmbeddedHR(migrated(database_url)) for _ in range(2)]
    seed_groups(hrs[0].engine, groups=[])
    asyncio.run(hrs[0].record_leave(leave("REQ-AAAAAA:hr", date(2027, 3, 1), date(2027, 3, 26))))  # 20 of 25
    outcomes: list[str] = []
    go = threading.Barrier(2)

    def take(i: int) -> None:
        go.wait()
        try:
            asyncio.run(hrs[i].record_leave(leave(f"REQ-{'BC'[i] * 6}:hr", date(2027, 5, 3), date(2027, 5, 6))))
            outcomes.append("recorded")
        except ConnectorPermanentError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["insufficient_balance", "recorded"]  # 4 days each, 5 left
    assert hrs[0].balance("alice", "vacation", 2027) == 1


async def test_membership_is_set_like_and_groups_must_exist(engine):
    idp = EmbeddedIdentity(engine)
    req = MembershipRequest(key="REQ-AAAAAA:identity", request_id="REQ-AAAAAA", user="alice",
                            email="alice@example.com", group="github-write")
    assert (await idp.add_member(req)).added
    assert (await idp.add_member(req)).added  # the same call again reports what it did the first time
    other = req.model_copy(update={"key": "REQ-BBBBBB:identity", "request_id": "REQ-BBBBBB"})
    assert not (await idp.add_member(other)).added
    assert await idp.is_member("alice@example.com", "github-write")
    with pytest.raises(ConnectorNotFound):
        await idp.add_member(req.model_copy(update={"key": "k3", "group": "nope"}))


async def test_tickets_and_expenses_get_numbers_once_per_key(engine):
    itsm = EmbeddedITSM(engine)
    t = TicketRequest(key="REQ-AAAAAA:itsm", request_id="REQ-AAAAAA", requester="alice", email="a@x", summary="s",
                      description="d", urgency="critical")
    assert (await itsm.create_ticket(t)).reference == "INC0001001"
    assert (await itsm.create_ticket(t)).reference == "INC0001001"
    assert (await itsm.create_ticket(t.model_copy(update={"key": "REQ-BBBBBB:itsm"}))).reference == "INC0001002"
    assert itsm.count() == 2
    claims = EmbeddedExpenses(engine)
    c = ExpenseClaim(key="REQ-AAAAAA:expenses", request_id="REQ-AAAAAA", user="alice", amount=Decimal("12.50"),
                     currency="EUR", category="meals", expense_date=date(2027, 1, 2), description="lunch")
    assert (await claims.file_expense(c)).reference == (await claims.file_expense(c)).reference == "EXP-000001"
