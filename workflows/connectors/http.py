"""What every vendor REST client shares: explicit timeouts, no retries, errors classified for Temporal."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable

import httpx

from workflows.connectors.errors import (
    ConnectorAuthError,
    ConnectorError,
    ConnectorNotFound,
    ConnectorPermanentError,
    ConnectorRateLimited,
    ConnectorUnavailable,
)

log = logging.getLogger(__name__)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or Okta's X-Rate-Limit-Reset (epoch)."""
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    reset = response.headers.get("x-rate-limit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - time.time())
        except ValueError:
            return None
    return None


def classify(system: str, response: httpx.Response, message: str) -> ConnectorError:
    status = response.status_code
    text = f"{system} answered {status}: {message}"
    if status in (401, 403):
        return ConnectorAuthError(text, system=system)
    if status == 404:
        return ConnectorNotFound(text, system=system)
    if status == 429 or (status == 503 and "retry-after" in response.headers):
        return ConnectorRateLimited(text, system=system, retry_after=retry_after(response))
    if status >= 500 or status == 408:
        return ConnectorUnavailable(text, system=system, retry_after=retry_after(response))
    return ConnectorPermanentError(text, system=system)


class VendorHTTP:
    """An httpx client for one vendor API. One attempt per call: Temporal decides about retries."""

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        timeout: float,
        error_message: Callable[[httpx.Response], str],
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.system = system
        self.timeout = timeout
        self._error_message = error_message
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout), auth=auth,
            headers={"Accept": "application/json", **(headers or {})}, transport=transport,
            follow_redirects=False,
        )

    async def request(self, method: str, url: str, *, expected: tuple[int, ...] = (200, 201, 204),
                      **kwargs) -> httpx.Response:
        try:
            response = await self._client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise ConnectorUnavailable(f"{self.system} did not answer within {self.timeout:g}s",
                                       system=self.system) from exc
        except httpx.TransportError as exc:
            raise ConnectorUnavailable(f"{self.system} is unreachable ({type(exc).__name__})",
                                       system=self.system) from exc
        if response.status_code in expected:
            return response
        try:
            message = self._error_message(response)
        except Exception:  # noqa: BLE001 - a malformed error body must not hide the status
            message = response.reason_phrase
        error = classify(self.system, response, message)
        log.warning("connector.http_error system=%s method=%s url=%s status=%s retryable=%s",
                    self.system, method, url, response.status_code, error.retryable)
        raise error

    async def aclose(self) -> None:
        await self._client.aclose()
