"""Activities that act on company systems once a request is approved, one class per connector."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from assistant.audit import AuditLog
from assistant.catalog import SystemCatalog
from workflows.activities.base import ConnectorActivities
from workflows.activities.models import (
    ADD_MEMBER,
    CREATE_TICKET,
    FILE_EXPENSE,
    OUT_OF_OFFICE,
    RECORD_LEAVE,
    EffectInput,
)
from workflows.connectors.base import (
    CalendarConnector,
    DirectoryConnector,
    ExpenseConnector,
    HRConnector,
    IdentityConnector,
    TicketConnector,
)
from workflows.connectors.models import (
    ExpenseClaim,
    LeaveRequest,
    MembershipRequest,
    OutOfOfficeRequest,
    TicketRequest,
)
from workflows.models import AccessDetails, EffectResult, ExpenseDetails, ITTicketDetails, TimeOffDetails


def _details(inp: EffectInput, kind: type):
    if not isinstance(inp.details, kind):
        raise ApplicationError(f"{inp.step} does not apply to a {inp.details.kind} request",
                               type="wrong_kind", non_retryable=True)
    return inp.details


class HRActivities(ConnectorActivities):
    def __init__(self, hr: HRConnector, directory: DirectoryConnector, audit: AuditLog) -> None:
        super().__init__(directory, audit)
        self.hr = hr

    @activity.defn(name=RECORD_LEAVE)
    async def record_leave(self, inp: EffectInput) -> EffectResult:
        d: TimeOffDetails = _details(inp, TimeOffDetails)
        person = await self.person(inp.requester)
        request = LeaveRequest(key=inp.key, request_id=inp.request_id, user=person.id, email=person.email,
                               start=d.start_date, end=d.end_date, leave_type=d.leave_type, note=d.note)
        record = await self.call(inp, self.hr.system, request, self.hr.record_leave)
        left = "" if record.balance_after is None else f"; {record.balance_after:g} {d.leave_type} days left"
        return EffectResult(step=inp.step, system=self.hr.system, reference=record.reference,
                            summary=f"leave recorded in HR ({record.days:g} working days{left})")


class CalendarActivities(ConnectorActivities):
    def __init__(self, calendar: CalendarConnector, directory: DirectoryConnector, audit: AuditLog) -> None:
        super().__init__(directory, audit)
        self.calendar = calendar

    @activity.defn(name=OUT_OF_OFFICE)
    async def create_out_of_office(self, inp: EffectInput) -> EffectResult:
        d: TimeOffDetails = _details(inp, TimeOffDetails)
        person = await self.person(inp.requester)
        request = OutOfOfficeRequest(key=inp.key, request_id=inp.request_id, user=person.id, email=person.email,
                                     timezone=person.timezone, start=d.start_date, end=d.end_date,
                                     subject=f"Out of office: {person.name} ({d.leave_type})")
        event = await self.call(inp, self.calendar.system, request, self.calendar.create_out_of_office)
        return EffectResult(step=inp.step, system=self.calendar.system, reference=event.reference,
                            summary="out-of-office event in your calendar")


class IdentityActivities(ConnectorActivities):
    def __init__(self, identity: IdentityConnector, catalog: SystemCatalog, directory: DirectoryConnector,
                 audit: AuditLog) -> None:
        super().__init__(directory, audit)
        self.identity = identity
        self.catalog = catalog

    @activity.defn(name=ADD_MEMBER)
    async def add_member(self, inp: EffectInput) -> EffectResult:
        d: AccessDetails = _details(inp, AccessDetails)
        system = self.catalog.get(d.system)
        if system is None or d.level not in system.levels:
            raise ApplicationError(f"{d.level} access to {d.system} is not in the catalog", type="unknown_system",
                                   non_retryable=True)
        person = await self.person(inp.requester)
        group = system.group_for(d.level)
        request = MembershipRequest(key=inp.key, request_id=inp.request_id, user=person.id, email=person.email,
                                    group=group)
        membership = await self.call(inp, self.identity.system, request, self.identity.add_member)
        verb = "added to" if membership.added else "already in"
        return EffectResult(step=inp.step, system=self.identity.system, reference=membership.reference,
                            summary=f"{verb} the {group} group ({d.level} access to {system.name})")


class ITSMActivities(ConnectorActivities):
    def __init__(self, itsm: TicketConnector, directory: DirectoryConnector, audit: AuditLog) -> None:
        super().__init__(directory, audit)
        self.itsm = itsm

    @activity.defn(name=CREATE_TICKET)
    async def create_ticket(self, inp: EffectInput) -> EffectResult:
        d: ITTicketDetails = _details(inp, ITTicketDetails)
        person = await self.person(inp.requester)
        request = TicketRequest(key=inp.key, request_id=inp.request_id, requester=person.id, email=person.email,
                                summary=d.summary[:200], description=d.summary, urgency=d.urgency)
        ticket = await self.call(inp, self.itsm.system, request, self.itsm.create_ticket)
        return EffectResult(step=inp.step, system=self.itsm.system, reference=ticket.reference,
                            summary=f"ticket {ticket.reference} opened ({d.urgency} urgency)")


class ExpenseActivities(ConnectorActivities):
    def __init__(self, expenses: ExpenseConnector, directory: DirectoryConnector, audit: AuditLog) -> None:
        super().__init__(directory, audit)
        self.expenses = expenses

    @activity.defn(name=FILE_EXPENSE)
    async def file_expense(self, inp: EffectInput) -> EffectResult:
        d: ExpenseDetails = _details(inp, ExpenseDetails)
        person = await self.person(inp.requester)
        request = ExpenseClaim(key=inp.key, request_id=inp.request_id, user=person.id, amount=d.amount,
                               currency=d.currency, category=d.category, expense_date=d.expense_date,
                               description=d.description)
        filed = await self.call(inp, self.expenses.system, request, self.expenses.file_expense)
        return EffectResult(step=inp.step, system=self.expenses.system, reference=filed.reference,
                            summary=f"expense {filed.reference} filed for reimbursement")
