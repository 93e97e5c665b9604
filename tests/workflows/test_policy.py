"""Approval policies as data: the shipped file encodes DESIGN.md's table; bad files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigurationError
from tests.workflows.conftest import access, expense, it_ticket, time_off
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


@pytest.mark.parametrize(("amount", "stages", "auto"), [
    ("100", [], True), ("100.01", [["manager"]], False), ("1000", [["manager"]], False),
    ("1000.01", [["manager"], ["role:finance_approver"]], False)])
def test_expense_thresholds(policies, amount, stages, auto):
    plan = policies.plan(expense(amount))
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
