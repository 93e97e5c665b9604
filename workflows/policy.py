"""Approval policies as data (`data/policies.yml`): who approves what, in which order, how long."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.errors import ConfigurationError
from workflows.models import AccessDetails, ExpenseDetails, RequestDetails, RequestKind, TimeOffDetails
from workflows.plan import ApprovalPlan, StagePlan

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SPEC = re.compile(r"^(manager|manager_of_manager|system_owners|(role|group|user):[A-Za-z0-9_.\-]+)$")


def seconds(value: Any) -> float:
    """'48h', '7d', '30m', '90s', '2w' or a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"not a duration: {value!r} (use e.g. 48h, 7d, 30m)")
    return float(m.group(1)) * _UNITS[m.group(2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """All given tests must hold. Amounts are in the company currency (converted by `PolicySet`);
    an amount in a currency without a rate is treated as over every limit, never as under one."""

    amount_over: Decimal | None = None
    amount_at_most: Decimal | None = None
    days_over: int | None = None
    systems: list[str] | None = None
    levels: list[str] | None = None

    def matches(self, details: RequestDetails, amount: Decimal | None = None) -> bool:
        expense = isinstance(details, ExpenseDetails)
        if self.amount_over is not None and not (expense and (amount is None or amount > self.amount_over)):
            return False
        if self.amount_at_most is not None and not (amount is not None and amount <= self.amount_at_most):
            return False
        if self.days_over is not None and not (isinstance(details, TimeOffDetails) and details.days > self.days_over):
            return False
        if self.systems is not None and not (isinstance(details, AccessDetails) and details.system in self.systems):
            return False
        if self.levels is not None and not (isinstance(details, AccessDetails) and details.level in self.levels):
            return False
        return True


def _specs(v: list[str]) -> list[str]:
    for spec in v:
        if not _SPEC.match(spec):
            raise ValueError(f"unknown approver {spec!r}: use manager, manager_of_manager, system_owners, "
                             "role:<role>, group:<group> or user:<id>")
    return v


class StagePolicy(_Strict):
    name: str = Field(min_length=1)
    approvers: list[str] = Field(min_length=1)
    required: int = Field(1, ge=1)
    when: Condition | None = None
    reminders: list[float] = Field(default_factory=list)
    escalate_after: float | None = None
    escalate_to: list[str] = Field(default_factory=list)
    deadline: float | None = None

    _check_approvers = field_validator("approvers", "escalate_to")(_specs)

    @field_validator("reminders", mode="before")
    @classmethod
    def _reminders(cls, v: Any) -> list[float]:
        return sorted(seconds(x) for x in (v or []))

    @field_validator("escalate_after", "deadline", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> float | None:
        return None if v is None else seconds(v)


class PeriodCap(_Strict):
    """At most `amount` (company currency) approved by this rule per person within `period`."""

    amount: Decimal = Field(gt=0)
    period: float

    @field_validator("period", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> float:
        return seconds(v)


class AutoApproveRule(_Strict):
    when: Condition
    reason: str = Field(min_length=1)
    per_person: PeriodCap | None = None


class KindPolicy(_Strict):
    stages: list[StagePolicy] = Field(default_factory=list)
    auto_approve: list[AutoApproveRule] = Field(default_factory=list)
    expire_after: float = Field(7 * 86400)
    fallback: list[str] = Field(default_factory=lambda: ["manager_of_manager", "manager"])

    _check_fallback = field_validator("fallback")(_specs)

    @field_validator("expire_after", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> float:
        return seconds(v)


class PolicySet:
    """Every kind's policy, loaded from YAML; `plan` evaluates one request against it."""

    def __init__(self, policies: dict[RequestKind, KindPolicy], *, version: str, currency: str = "EUR",
                 rates: dict[str, Decimal] | None = None) -> None:
        missing = [k.value for k in RequestKind if k not in policies]
        if missing:
            raise ConfigurationError(f"policies: no policy for {', '.join(missing)}")
        self.policies = policies
        self.version = version
        self.currency = currency.upper()
        self.rates = {k.upper(): Decimal(str(v)) for k, v in (rates or {}).items()} | {self.currency: Decimal(1)}

    def in_company_currency(self, details: RequestDetails) -> Decimal | None:
        """An expense's amount in the company currency; None without a rate for its currency."""
        if not isinstance(details, ExpenseDetails):
            return None
        rate = self.rates.get(details.currency.upper())
        return None if rate is None else (details.amount * rate).quantize(Decimal("0.01"))

    @classmethod
    def load(cls, path: Path) -> PolicySet:
        try:
            text = path.read_text(encoding="utf-8")
            raw = yaml.safe_load(text) or {}
            entries = raw.get("policies") or {}
            policies = {RequestKind(kind): KindPolicy.model_validate(body or {}) for kind, body in entries.items()}
            currency = str(raw.get("currency") or "EUR")
            rates = {str(k): Decimal(str(v)) for k, v in (raw.get("rates") or {}).items()}
            if any(r <= 0 for r in rates.values()):
                raise ValueError("every exchange rate must be positive")
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"cannot read policies {path}: {exc}") from exc
        except ValueError as exc:  # ValidationError and unknown kinds
            detail = exc.errors()[0] if isinstance(exc, ValidationError) else exc
            raise ConfigurationError(f"policies {path}: {detail}") from exc
        return cls(policies, version=hashlib.sha256(text.encode()).hexdigest()[:12], currency=currency,
                   rates=rates)

    def plan(self, details: RequestDetails, *,
             reserve: Callable[[PeriodCap, Decimal], bool] | None = None) -> ApprovalPlan:
        """The plan for `details`. A rule with a per-person cap applies only when `reserve(cap, amount)`
        books the amount within the requester's cap (atomically: two claims at once cannot both fit
        into the last room); without `reserve` such a rule never applies."""
        policy = self.policies[RequestKind(details.kind)]
        amount = self.in_company_currency(details)
        auto = next((rule for rule in policy.auto_approve if rule.when.matches(details, amount)
                     and _within_cap(rule, amount, reserve)), None)
        stages = [] if auto else [
            StagePlan(
                name=stage.name,
                approvers=list(stage.approvers),
                required=stage.required,
                reminders_seconds=list(stage.reminders),
                escalate_after_seconds=stage.escalate_after,
                escalate_to=list(stage.escalate_to),
                deadline_seconds=stage.deadline,
            )
            for stage in policy.stages
            if stage.when is None or stage.when.matches(details, amount)
        ]
        return ApprovalPlan(
            policy_version=self.version,
            auto_approve_reason=auto.reason if auto else None,
            stages=stages,
            expire_after_seconds=policy.expire_after,
            fallback=list(policy.fallback),
        )


def _within_cap(rule: AutoApproveRule, amount: Decimal | None,
                reserve: Callable[[PeriodCap, Decimal], bool] | None) -> bool:
    if rule.per_person is None:
        return True
    if reserve is None or amount is None:
        return False
    return reserve(rule.per_person, amount)
