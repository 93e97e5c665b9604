"""The embedded company systems: real SQL implementations of each connector contract.

They behave like the systems they stand for (leave balances, group memberships, ticket numbers)
so a demo does checkable work, and each call is idempotent on its key like the vendor ones.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select, update

from assistant.db import inserted_id, reading, serialize, writing
from workflows.connectors.embedded.schema import (
    calendar_events,
    expense_claims,
    hr_balances,
    hr_leave,
    idp_changes,
    idp_groups,
    idp_members,
    itsm_tickets,
)
from workflows.connectors.errors import ConnectorNotFound, ConnectorPermanentError
from workflows.connectors.models import (
    CalendarEvent,
    ExpenseClaim,
    FiledExpense,
    LeaveRecord,
    LeaveRequest,
    Membership,
    MembershipRequest,
    OutOfOfficeRequest,
    Ticket,
    TicketRequest,
)
from workflows.models import working_days

# Yearly allowance in working days; None = no limit (recorded, never refused).
ALLOWANCES: dict[str, float | None] = {"vacation": 25.0, "personal": 3.0, "sick": None, "parental": None}
PRIORITIES = {"critical": "P1", "high": "P2", "medium": "P3", "low": "P4"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class EmbeddedHR:
    system = "embedded-hr"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def record_leave(self, request: LeaveRequest) -> LeaveRecord:
        return await asyncio.to_thread(self._record, request)

    def _record(self, r: LeaveRequest) -> LeaveRecord:
        days = float(working_days(r.start, r.end))
        allowance = ALLOWANCES.get(r.leave_type)
        with writing(self.engine) as conn:
            serialize(conn, f"hr_balance:{r.user}:{r.leave_type}:{r.start.year}")  # two requests, one balance
            existing = conn.execute(select(hr_leave).where(hr_leave.c.key == r.key)).mappings().first()
            if existing is not None:
                return LeaveRecord(reference=f"LV-{existing['id']:06d}", user=r.user, days=existing["days"],
                                   balance_after=self._balance(conn, r.user, r.leave_type, r.start.year))
            if allowance is not None:
                row = conn.execute(select(hr_balances).where(
                    hr_balances.c.user == r.user, hr_balances.c.leave_type == r.leave_type,
                    hr_balances.c.year == r.start.year)).mappings().first()
                if row is None:
                    conn.execute(insert(hr_balances).values(user=r.user, leave_type=r.leave_type,
                                                            year=r.start.year, allowance=allowance, taken=0.0))
                    taken = 0.0
                else:
                    allowance, taken = row["allowance"], row["taken"]
                if taken + days > allowance:
                    raise ConnectorPermanentError(
                        f"{r.user} has {allowance - taken:g} {r.leave_type} days left in {r.start.year}, "
                        f"{days:g} requested", system=self.system, code="insufficient_balance")
                conn.execute(update(hr_balances).where(
                    hr_balances.c.user == r.user, hr_balances.c.leave_type == r.leave_type,
                    hr_balances.c.year == r.start.year).values(taken=taken + days))
            result = conn.execute(insert(hr_leave).values(
                key=r.key, request_id=r.request_id, user=r.user, start=r.start, end=r.end,
                leave_type=r.leave_type, days=days, note=r.note, created_at=_now()))
            leave_id = inserted_id(result)
            balance = self._balance(conn, r.user, r.leave_type, r.start.year)
        return LeaveRecord(reference=f"LV-{leave_id:06d}", user=r.user, days=days, balance_after=balance)

    @staticmethod
    def _balance(conn, user: str, leave_type: str, year: int) -> float | None:
        row = conn.execute(select(hr_balances).where(
            hr_balances.c.user == user, hr_balances.c.leave_type == leave_type,
            hr_balances.c.year == year)).mappings().first()
        return None if row is None else row["allowance"] - row["taken"]

    def balance(self, user: str, leave_type: str, year: int) -> float | None:
        """Days left (None when the type has no limit); the allowance if nothing was taken yet."""
        with reading(self.engine) as conn:
            left = self._balance(conn, user, leave_type, year)
        return left if left is not None else ALLOWANCES.get(leave_type)


class EmbeddedCalendar:
    system = "embedded-calendar"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def create_out_of_office(self, request: OutOfOfficeRequest) -> CalendarEvent:
        return await asyncio.to_thread(self._create, request)

    def _create(self, r: OutOfOfficeRequest) -> CalendarEvent:
        with writing(self.engine) as conn:
            existing = conn.execute(select(calendar_events.c.id).where(calendar_events.c.key == r.key)).first()
            if existing is not None:
                return CalendarEvent(reference=f"EV-{existing[0]:06d}", user=r.user)
            result = conn.execute(insert(calendar_events).values(
                key=r.key, request_id=r.request_id, user=r.user, start=r.start, end=r.end,
                subject=r.subject, show_as="oof", created_at=_now()))
        return CalendarEvent(reference=f"EV-{inserted_id(result):06d}", user=r.user)


class EmbeddedIdentity:
    system = "embedded-identity"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def add_member(self, request: MembershipRequest) -> Membership:
        return await asyncio.to_thread(self._add, request)

    def _add(self, r: MembershipRequest) -> Membership:
        with writing(self.engine) as conn:
            done = conn.execute(select(idp_changes).where(idp_changes.c.key == r.key)).mappings().first()
            if done is not None:
                return Membership(reference=f"{r.group}/{r.user}", user=r.user, group=r.group,
                                  added=done["action"] == "added")
            if conn.execute(select(idp_groups).where(idp_groups.c.name == r.group)).first() is None:
                raise ConnectorNotFound(f"group {r.group!r} does not exist", system=self.system)
            member = conn.execute(select(idp_members).where(
                idp_members.c.group == r.group, idp_members.c.user == r.user)).first()
            now = _now()
            if member is None:
                conn.execute(insert(idp_members).values(group=r.group, user=r.user, added_at=now))
            action = "added" if member is None else "already_member"
            conn.execute(insert(idp_changes).values(key=r.key, request_id=r.request_id, group=r.group,
                                                    user=r.user, action=action, at=now))
        return Membership(reference=f"{r.group}/{r.user}", user=r.user, group=r.group, added=member is None)

    async def is_member(self, email: str, group: str) -> bool:
        user = email.split("@")[0]
        return await asyncio.to_thread(self._is_member, user, group)

    def _is_member(self, user: str, group: str) -> bool:
        with reading(self.engine) as conn:
            return conn.execute(select(idp_members).where(
                idp_members.c.group == group, idp_members.c.user == user)).first() is not None


class EmbeddedITSM:
    system = "embedded-itsm"
    FIRST_NUMBER = 1001

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def create_ticket(self, request: TicketRequest) -> Ticket:
        return await asyncio.to_thread(self._create, request)

    def _create(self, r: TicketRequest) -> Ticket:
        with writing(self.engine) as conn:
            existing = conn.execute(select(itsm_tickets.c.id).where(itsm_tickets.c.key == r.key)).first()
            if existing is None:
                result = conn.execute(insert(itsm_tickets).values(
                    key=r.key, request_id=r.request_id, requester=r.requester, summary=r.summary,
                    description=r.description, priority=PRIORITIES.get(r.urgency, "P3"), state="new",
                    created_at=_now()))
                ticket_id = inserted_id(result)
            else:
                ticket_id = existing[0]
        return Ticket(reference=f"INC{self.FIRST_NUMBER - 1 + ticket_id:07d}")

    def count(self) -> int:
        with reading(self.engine) as conn:
            return conn.execute(select(func.count()).select_from(itsm_tickets)).scalar_one()


class EmbeddedExpenses:
    system = "embedded-expenses"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def file_expense(self, request: ExpenseClaim) -> FiledExpense:
        return await asyncio.to_thread(self._file, request)

    def _file(self, r: ExpenseClaim) -> FiledExpense:
        with writing(self.engine) as conn:
            existing = conn.execute(select(expense_claims.c.id).where(expense_claims.c.key == r.key)).first()
            if existing is None:
                result = conn.execute(insert(expense_claims).values(
                    key=r.key, request_id=r.request_id, user=r.user, amount=r.amount, currency=r.currency,
                    category=r.category, expense_date=r.expense_date, description=r.description,
                    status="filed", created_at=_now()))
                claim_id = inserted_id(result)
            else:
                claim_id = existing[0]
        return FiledExpense(reference=f"EXP-{claim_id:06d}")
