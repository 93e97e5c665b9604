"""`GET /api/admin/insights?from=YYYY-MM-DD&to=YYYY-MM-DD`: the numbers of the admin insights page
(channels/insights.py), for admins only."""

from __future__ import annotations

import asyncio
from datetime import date

from fastapi import APIRouter, Depends, Query, Request

from assistant.directory import User
from channels.auth import admin_user, services_of
from channels.insights import Period, Report, insights

router = APIRouter(prefix="/api/admin")


@router.get("/insights")
async def insights_report(
    request: Request,
    user: User = Depends(admin_user),
    start: date | None = Query(None, alias="from", description="first day (default: 29 days before `to`)"),
    end: date | None = Query(None, alias="to", description="last day, included (default: today)"),
) -> Report:
    """Conversations, people, intents, answers, requests and approvals of the period, and hours saved.

    Days are those of AIOS_INSIGHTS_TIMEZONE; 400 when the period is backwards or longer than
    AIOS_INSIGHTS_MAX_DAYS.
    """
    services = services_of(request)
    settings = services.settings.insights
    period = Period.of(start, end, settings=settings)
    return await asyncio.to_thread(insights, services.engine, period, settings)
