"""Jira Service Management REST client (/rest/servicedeskapi): create and find customer requests.

The API has no idempotency key, so the key goes into a label (a field the people filing requests
cannot write, unlike the summary) and a create is preceded by an exact JQL search for that label:
a retried activity finds the ticket its first attempt created, and nothing a user types can match.
The request type must have the Labels field (it may be hidden).
"""

from __future__ import annotations

import re

import httpx

from assistant.settings.workflows import JiraSettings
from workflows.connectors.http import VendorHTTP
from workflows.connectors.models import Ticket, TicketRequest

PAGE = 50


def error_message(response: httpx.Response) -> str:
    body = response.json()
    return str(body.get("errorMessage") or body.get("message") or body)


def label_for(key: str) -> str:
    """`REQ-AB12CD:itsm` -> `aios-REQ-AB12CD-itsm` (labels take no spaces; keep to safe characters)."""
    return "aios-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


class JiraServiceManagement:
    system = "jira"

    def __init__(self, settings: JiraSettings, *, timeout: float,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.http = VendorHTTP(
            self.system, settings.base_url, timeout=timeout, error_message=error_message,
            auth=(settings.email, settings.api_token.get_secret_value()), transport=transport,
        )

    async def create_ticket(self, request: TicketRequest) -> Ticket:
        label = label_for(request.key)
        found = await self.find(label)
        if found is not None:
            return found
        body = {
            "serviceDeskId": self.settings.service_desk_id,
            "requestTypeId": self.settings.request_type_id,
            "raiseOnBehalfOf": request.email,
            "requestFieldValues": {
                "summary": request.summary[:200],
                "description": f"{request.description}\n\nUrgency: {request.urgency}\n"
                               f"Filed through AIOS Assistant as {request.request_id}",
                "labels": [label],
            },
        }
        response = await self.http.request("POST", "/rest/servicedeskapi/request", json=body, expected=(201,))
        return _ticket(response.json())

    async def find(self, label: str) -> Ticket | None:
        """The request carrying exactly `label` (JQL on the label field, then its portal link)."""
        response = await self.http.request("GET", "/rest/api/3/search/jql", params={
            "jql": f'labels = "{label}"', "fields": "labels", "maxResults": 5,
        }, expected=(200,))
        for issue in response.json().get("issues", []):
            if label in ((issue.get("fields") or {}).get("labels") or []):
                found = await self.http.request("GET", f"/rest/servicedeskapi/request/{issue['key']}",
                                                expected=(200,))
                return _ticket(found.json())
        return None

    async def aclose(self) -> None:
        await self.http.aclose()


def _ticket(data: dict) -> Ticket:
    return Ticket(reference=str(data["issueKey"]), url=str((data.get("_links") or {}).get("web", "")))
