"""Connector failures: permanent ones end the request, the rest Temporal retries."""

from __future__ import annotations

from assistant.errors import AssistantError


class ConnectorError(AssistantError):
    """A call to a company system failed. `retryable` tells Temporal whether another attempt may help."""

    code = "connector_error"
    status = 502
    retryable = True

    def __init__(self, message: str, *, system: str, retry_after: float | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.system = system
        self.retry_after = retry_after


class ConnectorUnavailable(ConnectorError):
    """Timeout, connection refused, 5xx: try again later."""

    code = "connector_unavailable"


class ConnectorRateLimited(ConnectorError):
    """429 (or 503 with Retry-After): try again after `retry_after` seconds."""

    code = "connector_rate_limited"


class ConnectorPermanentError(ConnectorError):
    """The system refused the call for good (bad request, unknown user or group, no balance)."""

    code = "connector_rejected"
    retryable = False


class ConnectorAuthError(ConnectorPermanentError):
    """401/403: our credentials are wrong or lack a permission; retrying will not fix that."""

    code = "connector_auth"


class ConnectorNotFound(ConnectorPermanentError):
    code = "connector_not_found"
