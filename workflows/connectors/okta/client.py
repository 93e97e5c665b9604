"""Okta Management API client: users, groups (paged by Link headers) and membership.

Adding a member is a PUT, idempotent by nature, so a retried activity changes nothing twice.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from assistant.settings.workflows import OktaSettings
from workflows.connectors.errors import ConnectorNotFound
from workflows.connectors.http import VendorHTTP
from workflows.connectors.models import Membership, MembershipRequest

PAGE = 200


def error_message(response: httpx.Response) -> str:
    body = response.json()
    causes = "; ".join(c.get("errorSummary", "") for c in body.get("errorCauses") or [])
    summary = f"{body.get('errorCode', '')} {body.get('errorSummary', '')}".strip()
    return f"{summary} ({causes})" if causes else summary or str(body)


class OktaIdentity:
    system = "okta"

    def __init__(self, settings: OktaSettings, *, timeout: float,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.http = VendorHTTP(
            self.system, settings.org_url, timeout=timeout, error_message=error_message,
            headers={"Authorization": f"SSWS {settings.api_token.get_secret_value()}"}, transport=transport,
        )

    async def add_member(self, request: MembershipRequest) -> Membership:
        user_id = await self.user_id(request.email)
        group_id = await self.group_id(request.group)
        already = user_id in await self.member_ids(group_id)
        if not already:
            await self.http.request("PUT", f"/api/v1/groups/{group_id}/users/{user_id}", expected=(204,))
        return Membership(reference=f"{group_id}/{user_id}", user=request.user, group=request.group,
                          added=not already)

    async def is_member(self, email: str, group: str) -> bool:
        return await self.user_id(email) in await self.member_ids(await self.group_id(group))

    async def user_id(self, login: str) -> str:
        response = await self.http.request("GET", f"/api/v1/users/{quote(login, safe='')}", expected=(200,))
        return str(response.json()["id"])

    async def group_id(self, name: str) -> str:
        url: str | None = "/api/v1/groups"
        params: dict | None = {"q": name, "limit": PAGE}
        while url:
            response = await self.http.request("GET", url, params=params, expected=(200,))
            for group in response.json():
                if group.get("profile", {}).get("name") == name:
                    return str(group["id"])
            url, params = _next(response), None
        raise ConnectorNotFound(f"okta has no group named {name!r}", system=self.system)

    async def member_ids(self, group_id: str) -> set[str]:
        ids: set[str] = set()
        url: str | None = f"/api/v1/groups/{group_id}/users"
        params: dict | None = {"limit": PAGE}
        while url:
            response = await self.http.request("GET", url, params=params, expected=(200,))
            ids.update(str(u["id"]) for u in response.json())
            url, params = _next(response), None
        return ids

    async def aclose(self) -> None:
        await self.http.aclose()


def _next(response: httpx.Response) -> str | None:
    return response.links.get("next", {}).get("url")
