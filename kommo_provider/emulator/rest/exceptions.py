"""Kommo REST API v4 error answers: ``application/problem+json``, with ``validation-errors`` for 400s.

Shapes follow Kommo's errors page: ``{"title", "type": "https://httpstatus.es/<status>", "status",
"detail"}``; a validation failure adds ``"validation-errors": [{"request_id", "errors": [{"code",
"path", "detail"}]}]``. Of the error codes only ``NotSupportedChoice`` is one Kommo documents; the
others (:data:`FIELD_MISSING` ...) are the emulator's own names for the other failures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

from kommo_provider.emulator.http import EmulatorResponse, ServiceError, json_response

PROBLEM_JSON: Final = "application/problem+json"

FIELD_MISSING: Final = "FieldMissing"
INVALID_TYPE: Final = "InvalidType"
INVALID_VALUE: Final = "InvalidValue"
NOT_SUPPORTED_CHOICE: Final = "NotSupportedChoice"
NOT_UNIQUE: Final = "NotUnique"
LIMIT_EXCEEDED: Final = "LimitExceeded"
NOT_EDITABLE: Final = "NotEditable"


class KommoApiError(ServiceError):
    """A problem+json answer: status, Kommo's title for it, and a sentence naming the problem."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def to_response(self) -> EmulatorResponse:
        body: dict[str, Any] = dict(self.extra)
        body.update(
            {
                "title": HTTPStatus(self.status).phrase,
                "type": f"https://httpstatus.es/{self.status}",
                "status": self.status,
                "detail": self.detail,
            }
        )
        response = json_response(self.status, body, PROBLEM_JSON)
        response.headers.update(self.headers)
        return response


class Unauthorized(KommoApiError):
    """401: no token, a token this emulator never issued, or an expired one (never quoted)."""

    def __init__(self, detail: str) -> None:
        super().__init__(HTTPStatus.UNAUTHORIZED, detail)


class NotFound(KommoApiError):
    """404: the object does not exist for this token (another integration's sources included)."""

    def __init__(self, detail: str) -> None:
        super().__init__(HTTPStatus.NOT_FOUND, detail)


@dataclass(frozen=True)
class FieldError:
    """One entry of ``validation-errors[].errors``: what is wrong, where, and how to fix it."""

    code: str
    path: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "path": self.path, "detail": self.detail}


class ValidationFailed(KommoApiError):
    """400 with ``validation-errors``, one group per request item (``request_id``) that failed.

    ``detail`` is Kommo's "Request validation failed" unless a rule refused the whole call (a
    object that may no longer be edited), which the detail then names.
    """

    def __init__(
        self,
        failures: Sequence[tuple[str, Sequence[FieldError]]],
        detail: str = "Request validation failed",
    ) -> None:
        groups = [
            {"request_id": request_id, "errors": [error.to_dict() for error in errors]}
            for request_id, errors in failures
            if errors
        ]
        super().__init__(HTTPStatus.BAD_REQUEST, detail, extra={"validation-errors": groups})
        self.failures = [(request_id, list(errors)) for request_id, errors in failures if errors]


def bad_request(detail: str) -> KommoApiError:
    """400 without field errors: the body is not JSON, or not the array/object the call takes."""
    return KommoApiError(HTTPStatus.BAD_REQUEST, detail)
