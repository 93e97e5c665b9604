"""`POST /api/messages`: activities from the Bot Connector, authenticated before they are read.

Messages are acknowledged (202) at once and answered in the background (replies go out through
the Bot Connector); invokes (card buttons) are answered in the HTTP response, as Teams requires.
"""

from __future__ import annotations

import asyncio
import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from microsoft_agents.activity import Activity, ActivityTypes
from pydantic import ValidationError

from assistant.errors import BadRequest, NotFound
from channels import metrics
from channels.teams.auth import refuse

log = logging.getLogger(__name__)

router = APIRouter()


@router.post("/api/messages", include_in_schema=False)
async def messages(request: Request) -> Response:
    teams = getattr(request.app.state, "teams", None)
    if teams is None:
        raise NotFound("Teams is not configured on this gateway")
    authorization = request.headers.get("authorization")
    if not teams.settings.teams.anonymous and not authorization:
        raise refuse("no Authorization header")
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        # Still authenticate first: an anonymous caller learns nothing from the body check.
        await teams.validator.validate(authorization, {})
        raise BadRequest("the body must be a Bot Framework activity (JSON object)", code="invalid_activity")
    claims = await teams.validator.validate(authorization, data)
    try:
        activity = Activity.model_validate(data)
    except ValidationError:
        raise BadRequest("the body is not a valid activity", code="invalid_activity") from None
    if not activity.type or activity.conversation is None or not activity.conversation.id:
        raise BadRequest("an activity needs a type and a conversation id", code="invalid_activity")

    if activity.type == ActivityTypes.invoke:
        response = await teams.adapter.process_activity(claims, activity, teams.agent.on_turn)
        if response is None:
            return Response(status_code=200)
        return JSONResponse(response.body, status_code=int(response.status or 200))

    key = f"teams:{activity.conversation.id}:{activity.id}" if activity.id else None
    if key is not None and not await asyncio.to_thread(teams.claims.claim, key):
        log.info("teams.activity.duplicate id=%s", activity.id)
        metrics.CHANNEL_DUPLICATES.labels(channel="teams").inc()
        return Response(status_code=202)
    teams.background.spawn(_process(teams, claims, activity, key), name=f"activity-{activity.type}")
    return Response(status_code=202)


async def _process(teams, claims, activity: Activity, key: str | None) -> None:
    try:
        await teams.adapter.process_activity(claims, activity, teams.agent.on_turn)
    except Exception:
        if key is not None:  # a resend may redo it
            await asyncio.to_thread(teams.claims.release, key)
        raise
