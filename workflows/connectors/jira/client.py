"""Jira Service Management REST client (/rest/servicedeskapi): create and find customer requests.

The API has no idempotency key, so the key goes into the summary as a marker and a create is
preceded by a search for it: a retried activity finds the ticket its first attempt created.
"""

from __future__ import annotations

import httpx

from workflows.connectors.http import VendorHTTP
from workflows.connectors.models import Ticket, TicketRequest
from workflows.settings import JiraSettings

PAGE = 50


def error_message(response: httpx.Response) -> str:
    body = response.json()
    return str(body.get("errorMessage") or body.get("message") or body)


def marker(key: str) -> str:
    return f"[{key}]"


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
        tag = marker(request.key)
        found = await self.find(tag)
        if found is not None:
            return found
        body = {
            "serviceDeskId": self.settings.service_desk_id,
            "requestTypeId": self.settings.request_type_id,
            "raiseOnBehalfOf": request.email,
            "requestFieldValues": {
                "summary": f"{request.summary[:200]} {tag}",
                "description": f"{request.description}\n\nUrgency: {request.urgency}\n"
                               f"Filed through AIOS Assistant as {request.request_id} {tag}",
            },
        }
        response = await self.http.request("POST", "/rest/servicedeskapi/request", json=body, expected=(201,))
        return _ticket(response.json())

    async def find(self, tag: str) -> Ticket | None:
        """The request whose summary carries `tag`, following the pages of the search."""
        start = 0
        while True:
            response = await self.http.request("GET", "/rest/servicedeskapi/request", params={
                "searchTerm": tag, "requestOwnership": "ALL_REQUESTS",
                "serviceDeskId": self.settings.service_desk_id, "start": start, "limit": PAGE,
            }, expected=(200,))
            page = response.json()
            for value in page.get("values", []):
                fields = {f.get("fieldId"): f.get("value") for f in value.get("requestFieldValues", [])}
                if tag in str(fields.get("summary", "")):
                    return _ticket(value)
            if page.get("isLastPage", True) or not page.get("values"):
                return None
            start += int(page.get("size", len(page["values"])))

    async def aclose(self) -> None:
        await self.http.aclose()


def _ticket(data: dict) -> Ticket:
    return Ticket(reference=str(data["issueKey"]), url=str((data.get("_links") or {}).get("web", "")))
