"""Approval policies as data: the shipped file encodes DESIGN.md's table; bad files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigurationError
from tests.dbs import migrated
from tests.workflows.conftest import access, expense, it_ticket, time_off
from workflows.auto_approvals import AutoApprovalLedger
from workflows.policy import PolicySet, seconds

POLICIES = Path(__file__).resolve().parents[2] / "data" / "policies.yml"


@pytest.fixture(scope="module")
def policies() -> PolicySet:
    return PolicySet.load(POLICIES)


def test_time_off_goes_to_the_manager_escalates_after_48h_and_expires_after_7_days(policies):
    plan = policies.plan(time_off())
    [stage] = plan.stages
    assert stage.approvers == ["manager"] and stage.escalate_to == ["manager_of_manager"]
    assert stage.escalate_after_seconds == 48 * 3600 and stage.reminders_seconds == [24 * 3600]
    assert plan.expire_after_seconds == 7 * 86400


def test_access_has_two_stages_manager_then_system_owner(policies):
    assert [s.approvers for s in policies.plan(access()).stages] == [["manager"], ["system_owners"]]


@pytest.fixture
def ledger(database_url) -> AutoApprovalLedger:
    return AutoApprovalLedger(migrated(database_url))


def booker(ledger: AutoApprovalLedger, request_id: str, requester: str = "alice", now: float | None = None):
    return lambda cap, amount: ledger.reserve(request_id, requester, amount, cap=cap.amount, period=cap.period,
                                              now=now)


@pytest.mark.parametrize(("amount", "stages", "auto"), [
    ("100", [], True), ("100.01", [["manager"]], False), ("1000", [["manager"]], False),
    ("1000.01", [["manager"], ["role:finance_approver"]], False)])
def test_expense_thresholds(policies, ledger, amount, stages, auto):
    plan = policies.plan(expense(amount), reserve=booker(ledger, "REQ-AAAAAA"))
    assert [s.approvers for s in plan.stages] == stages
    assert (plan.auto_approve_reason is not None) is auto


def test_it_tickets_need_no_approval(policies):
    plan = policies.plan(it_ticket())
    assert plan.stages == [] and plan.auto_approve_reason is None


def test_durations():
    assert [seconds(v) for v in ("30s", "15m", "48h", "7d", "2w", 90)] == [30, 900, 172800, 604800, 1209600, 90]
    with pytest.raises(ValueError):
        seconds("soon")


@pytest.mark.parametrize("body", [
    "policies: {time_off: {stages: []}}",  # kinds missing
    "policies: {time_off: {stages: [{name: x, approvers: [boss]}]}, access: {}, expense: {}, it_ticket: {}}",
    "policies: {time_off: {expire_after: tomorrow}, access: {}, expense: {}, it_ticket: {}}",
    "policies: {holiday: {}, time_off: {}, access: {}, expense: {}, it_ticket: {}}",
    "policies: [unclosed",
])
def test_a_broken_policy_file_is_a_clear_configuration_error(tmp_path, body):
    path = tmp_path / "policies.yml"
    path.write_text(body)
    with pytest.raises(ConfigurationError):
        PolicySet.load(path)


def in_currency(amount: str, currency: str):
    return expense(amount).model_copy(update={"currency": currency})


def test_amounts_compare_in_the_company_currency(policies, ledger):
    """Review reproduction: ten separate 100 GBP claims were all auto-approved (100 GBP > 100 EUR)."""
    plans = [policies.plan(in_currency("100", "GBP"), reserve=booker(ledger, f"REQ-GBP00{i}")) for i in range(10)]
    assert all(p.auto_approve_reason is None and [s.approvers for s in p.stages] == [["manager"]] for p in plans)
    assert policies.plan(in_currency("80", "GBP"), reserve=booker(ledger, "REQ-GBP080")).auto_approve_reason
    # 900 USD is 828 EUR (manager only); 900 GBP is 1053 EUR (finance too).
    assert len(policies.plan(in_currency("900", "USD"), reserve=booker(ledger, "REQ-USD900")).stages) == 1
    assert len(policies.plan(in_currency("900", "GBP"), reserve=booker(ledger, "REQ-GBP900")).stages) == 2


def test_a_currency_without_a_rate_is_never_auto_approved_and_goes_to_finance(policies, ledger):
    plan = policies.plan(in_currency("5", "JPY"), reserve=booker(ledger, "REQ-JPY005"))
    assert plan.auto_approve_reason is None
    assert [s.approvers for s in plan.stages] == [["manager"], ["role:finance_approver"]]


def test_auto_approval_has_a_per_person_cap_over_a_period(policies, ledger):
    import time

    now = time.time()
    auto = [policies.plan(expense("90"), reserve=booker(ledger, f"REQ-CAP00{i}", now=now)).auto_approve_reason
            for i in range(4)]
    assert [a is not None for a in auto] == [True, True, True, False]  # 270 fits in 300; 360 does not
    assert policies.plan(expense("90"), reserve=booker(ledger, "REQ-CAP001", now=now)).auto_approve_reason  # a retry
    assert policies.plan(expense("90"), reserve=booker(ledger, "REQ-BOB001", "bob", now=now)).auto_approve_reason
    later = now + 31 * 86400
    assert policies.plan(expense("90"), reserve=booker(ledger, "REQ-CAP009", now=later)).auto_approve_reason
    # Without a ledger to book against, a capped rule does not apply at all.
    assert policies.plan(expense("10")).auto_approve_reason is None


def test_two_claims_at_once_cannot_both_take_the_last_room(ledger):
    from concurrent.futures import ThreadPoolExecutor
    from decimal import Decimal

    ledger.reserve("REQ-FIRST1", "alice", Decimal("250"), cap=Decimal("300"), period=86400)
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda i: ledger.reserve(f"REQ-RACE0{i}", "alice", Decimal("40"), cap=Decimal("300"),
                                                      period=86400), range(8)))
    assert won.count(True) == 1
