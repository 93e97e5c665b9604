"""What each person had approved by a capped auto-approval rule: the running totals behind the caps."""

from __future__ import annotations

import time
from decimal import Decimal

from sqlalchemy import Column, Float, MetaData, Numeric, String, Table, func, select
from sqlalchemy.engine import Engine

from assistant.db import serialize, writing

_meta = MetaData()
auto_approvals = Table(
    "auto_approvals", _meta,
    Column("request_id", String(32), primary_key=True),
    Column("requester", String(128), nullable=False, index=True),
    Column("amount", Numeric(18, 2), nullable=False),  # in the company currency
    Column("at", Float, nullable=False),
)


class AutoApprovalLedger:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def reserve(self, request_id: str, requester: str, amount: Decimal, *, cap: Decimal, period: float,
                now: float | None = None) -> bool:
        """Book `amount` for `request_id` if the requester's total in `period` stays within `cap`.

        One write transaction, serialised per requester, so concurrent claims are booked one after
        the other; a retried activity finds its own booking and gets True again.
        """
        now = time.time() if now is None else now
        with writing(self._engine) as conn:
            serialize(conn, f"auto_approvals:{requester}")
            if conn.execute(select(auto_approvals.c.request_id)
                            .where(auto_approvals.c.request_id == request_id)).first():
                return True
            spent = conn.execute(select(func.coalesce(func.sum(auto_approvals.c.amount), 0))
                                 .where(auto_approvals.c.requester == requester,
                                        auto_approvals.c.at >= now - period)).scalar()
            if Decimal(str(spent)) + amount > cap:
                return False
            conn.execute(auto_approvals.insert().values(request_id=request_id, requester=requester,
                                                        amount=amount, at=now))
        return True
