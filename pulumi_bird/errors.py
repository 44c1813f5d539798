"""One exception tree for everything Bird answers, chosen by HTTP status in one factory.

Every error carries the request's method and URL (never the access key), the HTTP status, and Bird's own
``code`` and ``message`` from its Error body (``{"code": ..., "message": ..., "details": ...}``).
"""

from __future__ import annotations

import copy
from typing import Any, Optional


class BirdError(Exception):
    """Base class of every error raised by :mod:`pulumi_bird`'s client."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status: Optional[int] = None,
        code: Optional[str] = None,
        bird_message: Optional[str] = None,
        details: Optional[dict[str, Any]] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.bird_message = bird_message
        self.details = details or {}
        self.request_id = request_id

    def with_summary(self, summary: str) -> "BirdError":
        """The same error (class, request, Bird's words) with a more helpful first sentence."""
        clone = copy.copy(self)
        clone.args = (summary,)
        return clone

    def __str__(self) -> str:
        where = f"{self.method} {self.url}".strip()
        parts = [super().__str__()]
        if where:
            parts.append(f"[{where}" + (f" -> {self.status}" if self.status else "") + "]")
        if self.code or self.bird_message:
            parts.append(f"Bird said {self.code or '?'}: {self.bird_message or ''}".rstrip(": "))
        if self.request_id:
            parts.append(f"(request id {self.request_id})")
        return " ".join(parts)


class AuthenticationError(BirdError):
    """401/403: the access key is missing, wrong, or lacks access to the workspace."""


class NotFoundError(BirdError):
    """404: the object (or its workspace/organization) does not exist."""


class ConflictError(BirdError):
    """409: the object conflicts with an existing one (a number already carries a connector)."""


class InvalidRequestError(BirdError):
    """400/422: Bird rejected the request body or parameters."""


class RateLimitError(BirdError):
    """429: Bird did not process the request; it may be retried (see ``retry_after``)."""

    retry_after: Optional[float] = None


class ServerError(BirdError):
    """5xx: Bird failed; the request may or may not have taken effect."""


class APIConnectionError(BirdError):
    """The API could not be reached, or did not answer in time."""

    def __init__(self, message: str, *, timed_out: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.timed_out = timed_out


class ReadinessError(BirdError):
    """A connector's channel ended in ``error`` or did not become active in time."""

    def __init__(self, message: str, *, connector_id: str, timed_out: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.connector_id = connector_id
        self.timed_out = timed_out


_BY_STATUS: dict[int, type[BirdError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
    429: RateLimitError,
}

_SUMMARY: dict[type[BirdError], str] = {
    AuthenticationError: "Bird refused the access key (check bird:accessKey or BIRD_ACCESS_KEY)",
    NotFoundError: "not found on Bird",
    ConflictError: "Bird reported a conflict",
    InvalidRequestError: "Bird rejected the request",
    RateLimitError: "Bird rate-limited the request",
    ServerError: "Bird failed to handle the request",
    BirdError: "unexpected answer from Bird",
}


def error_class_for(status: int) -> type[BirdError]:
    """The exception class for an HTTP error status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return BirdError


def error_from_response(
    *,
    method: str,
    url: str,
    status: int,
    body: Any,
    request_id: Optional[str] = None,
    retry_after: Optional[float] = None,
) -> BirdError:
    """Build the exception for a non-2xx answer. ``url`` must not hold secrets (it never does: the key
    travels in a header)."""
    cls = error_class_for(status)
    code = bird_message = None
    details: dict[str, Any] = {}
    if isinstance(body, dict):
        code = body.get("code") if isinstance(body.get("code"), str) else None
        bird_message = body.get("message") if isinstance(body.get("message"), str) else None
        details = body.get("details") if isinstance(body.get("details"), dict) else {}
    err = cls(
        _SUMMARY.get(cls, _SUMMARY[BirdError]),
        method=method,
        url=url,
        status=status,
        code=code,
        bird_message=bird_message,
        details=details,
        request_id=request_id,
    )
    if isinstance(err, RateLimitError):
        err.retry_after = retry_after
    return err
