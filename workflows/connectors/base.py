"""The small contract of each capability. Every method is idempotent on its request's `key`."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from workflows.connectors.models import (
    CalendarEvent,
    ExpenseClaim,
    FiledExpense,
    LeaveRecord,
    LeaveRequest,
    Membership,
    MembershipRequest,
    OutOfOfficeRequest,
    Person,
    Ticket,
    TicketRequest,
)


@runtime_checkable
class HRConnector(Protocol):
    system: str

    async def record_leave(self, request: LeaveRequest) -> LeaveRecord: ...


@runtime_checkable
class CalendarConnector(Protocol):
    system: str

    async def create_out_of_office(self, request: OutOfOfficeRequest) -> CalendarEvent: ...


@runtime_checkable
class IdentityConnector(Protocol):
    system: str

    async def add_member(self, request: MembershipRequest) -> Membership: ...

    async def is_member(self, email: str, group: str) -> bool: ...


@runtime_checkable
class TicketConnector(Protocol):
    system: str

    async def create_ticket(self, request: TicketRequest) -> Ticket: ...


@runtime_checkable
class ExpenseConnector(Protocol):
    system: str

    async def file_expense(self, request: ExpenseClaim) -> FiledExpense: ...


@runtime_checkable
class DirectoryConnector(Protocol):
    """Who someone is and who they report to (the embedded one reads data/directory.yml)."""

    system: str

    async def person(self, user_id: str) -> Person | None: ...

    async def manager_of(self, user_id: str) -> str | None: ...

    async def with_role(self, role: str) -> list[str]: ...

    async def in_group(self, group: str) -> list[str]: ...
