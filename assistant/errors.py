"""One error hierarchy with codes; turned into HTTP statuses or user text only at the edges."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the project raises on purpose.

    `message` is safe to show to a user; `code` is stable and machine-readable.
    """

    code = "internal_error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class ConfigurationError(AssistantError):
    code = "configuration_error"


class BadRequest(AssistantError):
    code = "bad_request"
    status = 400


class Unauthorized(AssistantError):
    code = "unauthorized"
    status = 401


class Forbidden(AssistantError):
    code = "forbidden"
    status = 403


class NotFound(AssistantError):
    code = "not_found"
    status = 404


class Conflict(AssistantError):
    code = "conflict"
    status = 409


class Gone(AssistantError):
    code = "gone"
    status = 410


class PayloadTooLarge(AssistantError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(AssistantError):
    code = "unsupported_media_type"
    status = 415


class Busy(AssistantError):
    """Too much at once (the model's queue, one person's share); `retry_after` seconds is a fair wait."""

    code = "busy"
    status = 429

    def __init__(self, message: str, *, code: str | None = None, retry_after: float = 5.0) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class RateLimited(Busy):
    """One person sent more than their share; `retry_after` seconds until the next is accepted."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retry_after=retry_after)


class ServiceUnavailable(AssistantError):
    code = "service_unavailable"
    status = 503
