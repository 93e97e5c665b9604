"""Rasa's REST channel that answers only the gateway: a bearer token is checked before anything else.

Rasa's `--auth-token` guards its HTTP API but not the channel webhooks, so with the stock `rest`
channel any process that can reach Rasa could speak as any user. This channel keeps the stock one's
URL (`/webhooks/rest/webhook`), body and replies, and refuses a request without the gateway's token
(`Authorization: Bearer <token>`, the token from credentials.yml, i.e. `AIOS_RASA_TOKEN`).
Each reply names the intent Rasa read in a header (`X-AIOS-NLU: intent;confidence=0.93`, see
`last_parse`); the body is the stock one.
"""

from __future__ import annotations

import hmac
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from aios_rasa import last_parse


class GatewayInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "GatewayInput":
        token = str((credentials or {}).get("token") or "")
        if len(token) < 32:
            raise ValueError("aios_rasa.channel.GatewayInput needs a token of 32+ characters (AIOS_RASA_TOKEN)")
        return cls(token)

    def __init__(self, token: Text) -> None:
        self._expected = f"Bearer {token}".encode()

    def authorised(self, request: Request) -> bool:
        return hmac.compare_digest(request.headers.get("authorization", "").encode(), self._expected)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def authenticate(request: Request) -> Optional[response.HTTPResponse]:
            if not self.authorised(request):
                return response.json({"error": "unauthorized"}, status=401)
            return None

        @webhook.middleware("response")
        async def intent_header(request: Request, reply: response.HTTPResponse) -> None:
            if reply.status != 200 or request.method != "POST" or not request.path.endswith("/webhook"):
                return
            body = request.json  # parsed already by the handler that answered 200
            sender = body.get("sender") if isinstance(body, dict) else None
            found = last_parse.take(str(sender)) if sender is not None else None
            if found:
                reply.headers[last_parse.HEADER] = found

        return webhook
