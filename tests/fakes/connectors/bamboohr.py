"""A local BambooHR fake: basic auth with the API key, employee directory, time-off requests."""

from __future__ import annotations

import base64

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.connectors.faults import FaultPlan


def error_body(status: int, message: str) -> None:
    return None  # BambooHR reports errors in a header, with an empty body


def create_fake_bamboohr(*, company: str, api_key: str, employees: dict[str, str],
                         type_ids: tuple[str, ...] = ("78", "79", "80", "81")) -> FastAPI:
    """`employees`: work email -> employee id."""
    app = FastAPI()
    faults = FaultPlan(error_body)
    app.state.faults = faults
    app.state.requests = []
    root = f"/api/gateway.php/{company}/v1"
    expected_auth = "Basic " + base64.b64encode(f"{api_key}:x".encode()).decode()

    def err(status: int, message: str, **headers: str) -> Response:
        return Response(status_code=status, headers={"X-BambooHR-Error-Message": message, **headers})

    original_inject = faults.inject

    def inject(status: int | None = None, *, message: str = "injected failure", **kw):
        kw.setdefault("headers", {})
        kw["headers"] = {"X-BambooHR-Error-Message": message, **kw["headers"]}
        return original_inject(status, message=message, **kw)

    faults.inject = inject  # type: ignore[method-assign]
    faults.install(app)

    def denied(request: Request) -> Response | None:
        if request.headers.get("authorization") != expected_auth:
            return err(401, "Invalid API key")
        return None

    @app.get(f"{root}/employees/directory")
    async def directory(request: Request):
        if (d := denied(request)) is not None:
            return d
        return {"fields": [{"id": "displayName", "type": "text", "name": "Display name"},
                           {"id": "workEmail", "type": "email", "name": "Work Email"}],
                "employees": [{"id": eid, "displayName": email.split("@")[0], "workEmail": email}
                              for email, eid in employees.items()]}

    @app.get(f"{root}/time_off/requests/")
    async def list_requests(request: Request, employeeId: str | None = None, start: str = "", end: str = ""):
        if (d := denied(request)) is not None:
            return d
        if not start or not end:
            return err(400, "start and end are required")
        return [r for r in app.state.requests
                if (employeeId is None or r["employeeId"] == employeeId) and r["start"] <= end and r["end"] >= start]

    @app.put(f"{root}/employees/{{employee_id}}/time_off/request")
    async def create(employee_id: str, request: Request):
        if (d := denied(request)) is not None:
            return d
        if employee_id not in employees.values():
            return err(404, f"Employee {employee_id} not found")
        body = await request.json()
        if str(body.get("timeOffTypeId")) not in type_ids:
            return err(400, "Invalid timeOffTypeId")
        if not body.get("start") or not body.get("end") or body["end"] < body["start"]:
            return err(400, "Invalid dates")
        rid = str(len(app.state.requests) + 1)
        notes = {n.get("from", "employee"): n.get("note", "") for n in body.get("notes", [])}
        item = {"id": rid, "employeeId": employee_id, "status": {"status": body.get("status", "requested")},
                "start": body["start"], "end": body["end"], "type": {"id": str(body["timeOffTypeId"])},
                "amount": {"unit": "days", "amount": str(body.get("amount", 0))}, "notes": notes}
        app.state.requests.append(item)
        return JSONResponse(item, status_code=201, headers={"Location": f"{root}/time_off/requests/{rid}"})

    return app
