"""amojo's error answers and the body-field checks that raise them (the admin routes answer alike).

Error bodies are ``{"error_code", "error_type", "error_description"}``: amojo's real error schema is
undocumented, these are the keys one public client parses, and the ``error_type`` codes are the
emulator's own. Every field error names the field, so a client can say which input is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from kommo_provider.emulator.http import EmulatorResponse, ServiceError, json_body, json_response


class AmojoError(ServiceError):
    """An error answer: HTTP status, short ``error_type`` code and a sentence naming the problem."""

    def __init__(
        self,
        status: int,
        error_type: str,
        description: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error_type}: {description}")
        self.status = status
        self.error_type = error_type
        self.description = description
        self.headers = dict(headers or {})

    def to_response(self) -> EmulatorResponse:
        """Render the JSON error body."""
        response = json_response(
            self.status,
            {
                "error_code": self.status,
                "error_type": self.error_type,
                "error_description": self.description,
            },
        )
        response.headers.update(self.headers)
        return response


def json_object(body: bytes, *, allow_empty: bool = False) -> dict[str, Any]:
    """Parse the body as a JSON object (400 otherwise); unknown keys are the caller's business."""
    if allow_empty and not body.strip():
        return {}
    try:
        payload = json_body(body)
    except ValueError:
        raise AmojoError(
            HTTPStatus.BAD_REQUEST, "INVALID_JSON", "Request body is not valid UTF-8 JSON"
        ) from None
    if not isinstance(payload, dict):
        raise AmojoError(
            HTTPStatus.BAD_REQUEST,
            "INVALID_JSON",
            f"Request body must be a JSON object, got {json_type(payload)}",
        )
    return payload


def required_str(payload: Mapping[str, Any], name: str) -> str:
    """The field as a non-empty string; 400 naming the field otherwise."""
    if name not in payload:
        raise AmojoError(HTTPStatus.BAD_REQUEST, "MISSING_FIELD", f"Field {name} is required")
    value = payload[name]
    if not isinstance(value, str) or not value:
        raise invalid(name, "a non-empty string", value)
    return value


def optional(
    payload: Mapping[str, Any],
    name: str,
    kind: type[Any],
    expected: str,
    *,
    allow_null: bool = False,
) -> Any:
    """The field's value if present and of type ``kind`` (bool is not int here), else 400."""
    if name not in payload:
        return None
    value = payload[name]
    if value is None and allow_null:
        return None
    # JSON true/false decode to bool, which is an int subclass: never let 1 pass as a bool or
    # true as an int.
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise invalid(name, expected, value)
    return value


def number(payload: Mapping[str, Any], name: str, *, required: bool = False, allow_null: bool = False) -> Any:
    """The field as a float (JSON number, not a boolean); ``None`` when absent and allowed."""
    value = payload.get(name)
    if value is None and (allow_null or (not required and name not in payload)):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(name, "a number", value)
    return float(value)


def invalid(name: str, expected: str, value: Any) -> AmojoError:
    """400 saying what the field must be and what was received (shortened)."""
    return AmojoError(
        HTTPStatus.BAD_REQUEST,
        "INVALID_FIELD",
        f"Field {name} must be {expected}, got {json_type(value)} {shown(value)}",
    )


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shown(value: Any) -> str:
    """A short JSON rendering of a received value for error messages (at most 60 characters)."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def forbidden(error_type: str, description: str) -> AmojoError:
    return AmojoError(HTTPStatus.FORBIDDEN, error_type, description)


def channel_not_found(channel_id: str) -> AmojoError:
    return AmojoError(HTTPStatus.NOT_FOUND, "CHANNEL_NOT_FOUND", f"Channel {channel_id} does not exist")
