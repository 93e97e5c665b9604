"""BambooHR API client: employees by work email, time-off requests (find, then create).

BambooHR has no idempotency key: the key is the whole of the manager's note (which the person
filing cannot write; their own words go in the employee's note), and a create is preceded by a
look-up of the employee's requests over the same dates that matches that note exactly.
"""

from __future__ import annotations

import httpx

from assistant.settings.workflows import BambooHRSettings
from workflows.connectors.errors import ConnectorNotFound, ConnectorPermanentError
from workflows.connectors.http import VendorHTTP
from workflows.connectors.models import LeaveRecord, LeaveRequest
from workflows.models import working_days


def error_message(response: httpx.Response) -> str:
    return response.headers.get("x-bamboohr-error-message") or response.reason_phrase


def manager_note(request: LeaveRequest) -> str:
    """The whole manager's note of a request we filed: its idempotency marker, matched exactly."""
    return f"Approved through AIOS ({request.request_id}) [{request.key}]"


class BambooHR:
    system = "bamboohr"

    def __init__(self, settings: BambooHRSettings, *, timeout: float,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        base = f"{settings.base_url.rstrip('/')}/api/gateway.php/{settings.company_domain}/v1"
        self.http = VendorHTTP(self.system, base, timeout=timeout, error_message=error_message,
                               auth=(settings.api_key.get_secret_value(), "x"), transport=transport)
        self._employees: dict[str, str] = {}

    async def employee_id(self, email: str) -> str:
        if email.lower() not in self._employees:
            response = await self.http.request("GET", "/employees/directory", expected=(200,))
            self._employees = {str(e.get("workEmail", "")).lower(): str(e["id"])
                               for e in response.json().get("employees", [])}
        try:
            return self._employees[email.lower()]
        except KeyError:
            raise ConnectorNotFound(f"bamboohr has no employee with work email {email}", system=self.system) from None

    async def record_leave(self, request: LeaveRequest) -> LeaveRecord:
        type_id = self.settings.type_ids().get(request.leave_type)
        if type_id is None:
            raise ConnectorPermanentError(f"no BambooHR time-off type for {request.leave_type!r}", system=self.system)
        employee = await self.employee_id(request.email)
        marker = manager_note(request)
        response = await self.http.request("GET", "/time_off/requests/", params={
            "employeeId": employee, "start": request.start.isoformat(), "end": request.end.isoformat(),
        }, expected=(200,))
        for item in response.json():
            notes = item.get("notes")
            if isinstance(notes, dict) and notes.get("manager") == marker:
                return LeaveRecord(reference=f"BHR-{item['id']}", user=request.user,
                                   days=float(item.get("amount", {}).get("amount", 0)))
        days = working_days(request.start, request.end)
        notes = [{"from": "manager", "note": marker}]
        if request.note.strip():
            notes.insert(0, {"from": "employee", "note": request.note.strip()})
        body = {
            "status": "approved", "start": request.start.isoformat(), "end": request.end.isoformat(),
            "timeOffTypeId": int(type_id), "amount": days, "notes": notes,
        }
        created = await self.http.request("PUT", f"/employees/{employee}/time_off/request", json=body,
                                          expected=(200, 201))
        return LeaveRecord(reference=f"BHR-{created.json()['id']}", user=request.user, days=float(days))

    async def aclose(self) -> None:
        await self.http.aclose()
