"""A local Jira Service Management fake: the customer-request endpoints, basic auth, paging, errors."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.connectors.faults import FaultPlan


def error_body(status: int, message: str) -> dict:
    return {"errorMessage": message, "i18nErrorMessage": {"i18nKey": f"sd.error.{status}", "parameters": []}}


def create_fake_jira(*, email: str, token: str, service_desk_id: str = "1", request_type_id: str = "10",
                     page_limit: int = 50) -> FastAPI:
    app = FastAPI()
    app.state.faults = FaultPlan(error_body)
    app.state.requests = []
    app.state.faults.install(app)
    expected_auth = "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()

    def err(status: int, message: str) -> JSONResponse:
        return JSONResponse(error_body(status, message), status_code=status)

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == expected_auth

    def view(item: dict, base: str) -> dict:
        return {
            "issueId": str(item["id"]), "issueKey": item["key"], "requestTypeId": request_type_id,
            "serviceDeskId": service_desk_id, "createdDate": {"iso8601": item["created"]},
            "reporter": {"emailAddress": item["reporter"]},
            "requestFieldValues": [
                {"fieldId": "summary", "label": "Summary", "value": item["summary"]},
                {"fieldId": "description", "label": "Description", "value": item["description"]},
            ],
            "currentStatus": {"status": "Waiting for support"},
            "_links": {"web": f"{base}/servicedesk/customer/portal/{service_desk_id}/{item['key']}",
                       "self": f"{base}/rest/servicedeskapi/request/{item['id']}"},
        }

    @app.post("/rest/servicedeskapi/request")
    async def create(request: Request):
        if not authorised(request):
            return err(401, "Client must be authenticated to access this resource.")
        body = await request.json()
        if str(body.get("serviceDeskId")) != service_desk_id:
            return err(404, f"The service desk {body.get('serviceDeskId')} does not exist.")
        if str(body.get("requestTypeId")) != request_type_id:
            return err(400, "The request type is invalid for this service desk.")
        fields = body.get("requestFieldValues") or {}
        if not fields.get("summary"):
            return err(400, "Summary: You must specify a summary of the issue.")
        n = len(app.state.requests) + 1
        labels = fields.get("labels") or []
        if not isinstance(labels, list) or any(not isinstance(x, str) or " " in x for x in labels):
            return err(400, "Labels: labels cannot contain spaces.")
        item = {"id": 10000 + n, "key": f"IT-{n}", "summary": fields["summary"],
                "description": fields.get("description", ""), "reporter": body.get("raiseOnBehalfOf", email),
                "labels": labels, "created": datetime.now(UTC).isoformat()}
        app.state.requests.append(item)
        return JSONResponse(view(item, str(request.base_url).rstrip("/")), status_code=201)

    @app.get("/rest/servicedeskapi/request")
    async def search(request: Request, searchTerm: str = "", start: int = 0, limit: int = 50):
        if not authorised(request):
            return err(401, "Client must be authenticated to access this resource.")
        limit = max(1, min(limit, page_limit))
        # Like Jira's text search, any word of the term matches, so the exact hit may be pages away.
        words = {w for w in re.split(r"[^a-z0-9]+", searchTerm.lower()) if w}
        hits = [r for r in app.state.requests
                if words & set(re.split(r"[^a-z0-9]+", r["summary"].lower()))]
        page = hits[start:start + limit]
        base = str(request.base_url).rstrip("/")
        return {"size": len(page), "start": start, "limit": limit, "isLastPage": start + len(page) >= len(hits),
                "values": [view(r, base) for r in page], "_links": {"base": base}}

    @app.get("/rest/servicedeskapi/request/{key}")
    async def one(request: Request, key: str):
        if not authorised(request):
            return err(401, "Client must be authenticated to access this resource.")
        item = next((r for r in app.state.requests if r["key"] == key), None)
        if item is None:
            return err(404, f"The request {key} does not exist.")
        return view(item, str(request.base_url).rstrip("/"))

    @app.get("/rest/api/3/search/jql")
    async def jql(request: Request, jql: str = "", maxResults: int = 50):
        # Only what the client asks: `labels = "x"`, which Jira matches exactly (case-insensitively).
        if not authorised(request):
            return err(401, "Client must be authenticated to access this resource.")
        m = re.fullmatch(r'\s*labels\s*=\s*"([^"]+)"\s*', jql)
        if m is None:
            return JSONResponse({"errorMessages": [f"Error in the JQL Query: {jql!r}"], "errors": {}},
                                status_code=400)
        wanted = m.group(1).lower()
        hits = [r for r in app.state.requests if wanted in (x.lower() for x in r["labels"])][:maxResults]
        return {"issues": [{"id": str(r["id"]), "key": r["key"], "fields": {"labels": r["labels"]}}
                           for r in hits], "isLast": True}

    return app
