"""`POST /slack/events`: Events API, interactivity (buttons, modals) and the slash command.

The signature is checked before anything is parsed (then again by bolt's middleware), so a forged,
altered or replayed request is a 401 and never reaches a listener.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier

from assistant.errors import BadRequest, NotFound, Unauthorized
from channels import metrics

log = logging.getLogger(__name__)

router = APIRouter()


@router.post("/slack/events", include_in_schema=False)
async def slack_events(request: Request) -> Response:
    slack = getattr(request.app.state, "slack", None)
    if slack is None or slack.settings.slack.socket_mode:
        raise NotFound("Slack over HTTP is not configured on this gateway")
    body = await request.body()
    secret = slack.settings.slack.signing_secret.get_secret_value()
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    try:
        text = body.decode("utf-8")  # Slack signs UTF-8 text; anything else cannot carry a valid signature
    except UnicodeDecodeError:
        text = None
    if text is None or not timestamp.isdigit() or not SignatureVerifier(secret).is_valid(text, timestamp, signature):
        log.warning("slack.bad_signature has_timestamp=%s has_signature=%s", bool(timestamp), bool(signature))
        metrics.CHANNEL_REFUSALS.labels(channel="slack", reason="bad_signature").inc()
        raise Unauthorized("the request is not signed by Slack, or it is older than 5 minutes", code="bad_signature")
    try:
        bolt_request = to_async_bolt_request(request, body)
    except (ValueError, TypeError, AttributeError, RecursionError):  # not JSON, or not an object
        bolt_request = None
    if bolt_request is None or not isinstance(bolt_request.body, dict):
        raise BadRequest("the request body is not a Slack payload", code="invalid_payload")
    response = await slack.app.async_dispatch(bolt_request)
    if response.status == 401:
        metrics.CHANNEL_REFUSALS.labels(channel="slack", reason="bad_signature").inc()
        raise Unauthorized("the request is not signed by Slack", code="bad_signature")
    if response.status == 404 and bolt_request.body.get("type") == "event_callback":
        # An event type nobody listens to: acknowledge, or Slack retries it for hours.
        return Response(status_code=200)
    if response.status >= 400:
        log.warning("slack.dispatch_status status=%s body=%s", response.status, str(response.body)[:200])
    return to_starlette_response(response)
