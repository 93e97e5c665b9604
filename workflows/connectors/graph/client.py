"""Microsoft Graph client: app-only token (client credentials) and all-day out-of-office events.

Idempotency: Graph's event `transactionId` makes the server drop a repeated POST of the same event.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from urllib.parse import quote

import httpx

from assistant.settings.workflows import GraphSettings
from workflows.connectors.errors import ConnectorAuthError
from workflows.connectors.http import VendorHTTP
from workflows.connectors.models import CalendarEvent, OutOfOfficeRequest

SCOPE = "https://graph.microsoft.com/.default"


def error_message(response: httpx.Response) -> str:
    body = response.json()
    error = body.get("error")
    if isinstance(error, dict):
        return f"{error.get('code', '')}: {error.get('message', '')}"
    return f"{error}: {body.get('error_description', '')}"  # the token endpoint's OAuth error


def transaction_id(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aios:{key}"))


class GraphCalendar:
    system = "graph"

    def __init__(self, settings: GraphSettings, *, timeout: float,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.http = VendorHTTP(self.system, settings.base_url, timeout=timeout, error_message=error_message,
                               transport=transport)
        self._token: str | None = None
        self._token_expires = 0.0

    async def _access_token(self) -> str:
        if self._token is None or time.monotonic() > self._token_expires:
            s = self.settings
            response = await self.http.request("POST", s.effective_token_url, data={
                "grant_type": "client_credentials", "client_id": s.client_id,
                "client_secret": s.client_secret.get_secret_value(), "scope": SCOPE,
            }, expected=(200,))
            body = response.json()
            self._token = str(body["access_token"])
            self._token_expires = time.monotonic() + float(body.get("expires_in", 3600)) - 60
        return self._token

    async def _call(self, method: str, url: str, **kwargs) -> httpx.Response:
        try:
            return await self.http.request(method, url, headers=await self._auth(), **kwargs)
        except ConnectorAuthError:
            # A revoked or rotated token: fetch a new one once; a second 401 is a real auth problem.
            self._token = None
            return await self.http.request(method, url, headers=await self._auth(), **kwargs)

    async def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self._access_token()}"}

    async def create_out_of_office(self, request: OutOfOfficeRequest) -> CalendarEvent:
        body = {
            "subject": request.subject,
            "body": {"contentType": "text", "content": f"Filed through AIOS Assistant as {request.request_id}."},
            "start": {"dateTime": f"{request.start.isoformat()}T00:00:00", "timeZone": request.timezone},
            "end": {"dateTime": f"{(request.end + timedelta(days=1)).isoformat()}T00:00:00",
                    "timeZone": request.timezone},
            "isAllDay": True,
            "showAs": "oof",
            "isReminderOn": False,
            "transactionId": transaction_id(request.key),
        }
        response = await self._call("POST", f"/users/{quote(request.email, safe='@')}/events", json=body,
                                    expected=(201,))
        return CalendarEvent(reference=str(response.json()["id"]), user=request.user)

    async def aclose(self) -> None:
        await self.http.aclose()
