"""Handles amojo emulator requests: routing, faults, Kommo's header checks, backend calls, answers.

No state lives here (it is in :mod:`.models` and :mod:`.faults`) and no sockets either (they are in
:mod:`.server`): a request comes in as an :class:`EmulatorRequest` and leaves as an
:class:`EmulatorResponse`, so the whole HTTP behaviour can be read in one file.

Checks run in the order amojo documents them: unknown channel (404), then the four signing headers
(403), then the body (400). Error bodies are ``{"error_code", "error_type", "error_description"}``:
amojo's real error schema is undocumented, these are the keys one public client parses, and the
``error_type`` codes are the emulator's own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, Final, Literal

from kommo_provider import signing
from kommo_provider.emulator import urls
from kommo_provider.emulator.faults import FaultPlan
from kommo_provider.emulator.models import (
    DEFAULT_CHANNEL_NAME,
    AmojoBackend,
    RecordedRequest,
    UnknownChannelError,
)

DisconnectBody = Literal["empty", "object"]
"""What a successful disconnect returns: no body (amoCRM docs) or ``{}`` (Kommo's OpenAPI)."""

HOOK_API_VERSIONS: Final = ("v1", "v2")
DEFAULT_HOOK_API_VERSION: Final = "v2"
GARBAGE_BODY: Final = b"<html>not json"
JSON_CONTENT_TYPE: Final = "application/json"


@dataclass(frozen=True)
class EmulatorRequest:
    """One HTTP request as received: method, raw request target, headers as sent, body bytes."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def path(self) -> str:
        """The target without query string: what routes match and what the signature covers."""
        return signing.signing_path(self.target)

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup (HTTP header names are case-insensitive)."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass
class EmulatorResponse:
    """An answer for the server to write; ``reset_connection`` means drop the socket instead."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset_connection: bool = False


class AmojoError(Exception):
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


def json_response(status: int, payload: Any) -> EmulatorResponse:
    """A JSON answer with ``Content-Type: application/json``."""
    return EmulatorResponse(
        status=status,
        body=signing.encode_json(payload),
        headers={"Content-Type": JSON_CONTENT_TYPE},
    )


Handler = Callable[[EmulatorRequest, Mapping[str, str]], EmulatorResponse]


class AmojoResponse:
    """Turns requests into answers for one backend and fault plan; one method per operation."""

    def __init__(
        self,
        backend: AmojoBackend,
        faults: FaultPlan,
        *,
        clock: Callable[[], datetime],
        disconnect_body: DisconnectBody = "empty",
    ) -> None:
        """``clock`` returns aware UTC time; the emulator clock adds the fault plan's offset to it."""
        if disconnect_body not in ("empty", "object"):
            raise ValueError('disconnect_body must be "empty" or "object"')
        self.backend = backend
        self.faults = faults
        self.clock = clock
        self.disconnect_body: DisconnectBody = disconnect_body

    def now(self) -> datetime:
        """The emulator clock: ``clock()`` shifted by ``faults.clock_offset_seconds`` (for skew tests)."""
        return self.clock() + timedelta(seconds=self.faults.clock_offset_seconds)

    # Dispatch -----------------------------------------------------------------------------------

    def dispatch(self, request: EmulatorRequest) -> EmulatorResponse:
        """Route one request and return the finished answer (with ``Date`` and ``Content-Length``)."""
        path = request.path
        found = urls.match(path)
        if found is None:
            # fcritic's client reads an empty 4xx body as "invalid URI"; keep it empty here.
            response = EmulatorResponse(HTTPStatus.NOT_FOUND)
            if not urls.is_admin_path(path):
                self._record(request, response, None)
            return self.finish(response)
        route, params = found
        if route.api:
            response, fault = self._call_api(route, params, request)
            self._record(request, response, fault)
        else:
            response = self._call(route, params, request)
        return self.finish(response)

    def finish(self, response: EmulatorResponse) -> EmulatorResponse:
        """Add the headers every answer carries: ``Date`` from the emulator clock, ``Content-Length``."""
        response.headers["Date"] = formatdate(self.now().timestamp(), usegmt=True)
        response.headers["Content-Length"] = str(len(response.body))
        return response

    def framing_error(self, status: int, description: str) -> EmulatorResponse:
        """A finished error answer for a request the server could not even read (bad length)."""
        return self.finish(AmojoError(status, "BAD_REQUEST", description).to_response())

    def _call_api(
        self, route: urls.Route, params: Mapping[str, str], request: EmulatorRequest
    ) -> tuple[EmulatorResponse, str | None]:
        """Rate limiter and faults first, as a gateway in front of amojo would, then the handler."""
        channel_id = params["channel_id"]
        retry_after = {"Retry-After": str(self.faults.retry_after)}
        if not self.faults.rate_limiter.allow(channel_id):
            error = AmojoError(
                HTTPStatus.TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                f"Too many requests for channel {channel_id}; retry after {self.faults.retry_after} s",
                retry_after,
            )
            return error.to_response(), "rate_limit"
        fault = self.faults.next_fault()
        if fault == "delay":
            time.sleep(self.faults.delay_seconds)
        elif fault == "reset":
            return EmulatorResponse(0, reset_connection=True), fault
        elif fault == "garbage":
            response = EmulatorResponse(HTTPStatus.OK, GARBAGE_BODY, {"Content-Type": "text/html"})
            return response, fault
        elif fault == "429":
            error = AmojoError(
                HTTPStatus.TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                f"Too many requests (injected fault); retry after {self.faults.retry_after} s",
                retry_after,
            )
            return error.to_response(), fault
        elif fault == "500":
            error = AmojoError(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "Internal server error (injected fault)",
            )
            return error.to_response(), fault
        elif fault == "503":
            error = AmojoError(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "Service temporarily unavailable (injected fault)",
            )
            return error.to_response(), fault
        return self._call(route, params, request), fault

    def _call(
        self, route: urls.Route, params: Mapping[str, str], request: EmulatorRequest
    ) -> EmulatorResponse:
        """Run the route's handler for the method; 405 if the route has none for it."""
        name = route.methods.get(request.method.upper())
        if name is None:
            allowed = ", ".join(sorted(route.methods))
            return AmojoError(
                HTTPStatus.METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                f"Method {request.method} is not allowed here; use {allowed}",
                {"Allow": allowed},
            ).to_response()
        handler: Handler = getattr(self, name)
        try:
            return handler(request, params)
        except AmojoError as error:
            return error.to_response()

    def _record(self, request: EmulatorRequest, response: EmulatorResponse, fault: str | None) -> None:
        self.backend.record(
            RecordedRequest(
                method=request.method,
                path=request.target,
                headers=dict(request.headers),
                body=request.body.decode("utf-8", errors="replace"),
                status=int(response.status),
                fault=fault,
                received_at=self.now().timestamp(),
            )
        )

    # Chat API operations ------------------------------------------------------------------------

    def connect(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /v2/origin/custom/{channel_id}/connect``: connect the channel to an account."""
        channel_id = params["channel_id"]
        self._verify(request, channel_id)
        payload = _json_object(request.body)
        account_id = _required_str(payload, "account_id")
        # fcritic/amojo-api-client sends "title": null when it has none, so null means "absent".
        title = _optional(payload, "title", str, "a string", allow_null=True) or ""
        hook_api_version = _optional(payload, "hook_api_version", str, '"v1" or "v2"')
        if hook_api_version is None:
            hook_api_version = DEFAULT_HOOK_API_VERSION
        elif hook_api_version not in HOOK_API_VERSIONS:
            raise _invalid("hook_api_version", '"v1" or "v2"', hook_api_version)
        is_time_window_disabled = _optional(
            payload, "is_time_window_disabled", bool, "a JSON boolean (true or false)"
        )
        try:
            connection = self.backend.connect(
                channel_id,
                account_id,
                title,
                hook_api_version,
                bool(is_time_window_disabled),
            )
        except UnknownChannelError:
            raise _channel_not_found(channel_id) from None
        return json_response(
            HTTPStatus.OK,
            {
                "account_id": connection.account_id,
                "scope_id": connection.scope_id,
                "title": connection.title,
                "hook_api_version": connection.hook_api_version,
                "is_time_window_disabled": connection.is_time_window_disabled,
            },
        )

    def disconnect(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``DELETE /v2/origin/custom/{channel_id}/disconnect``: disconnect an account (idempotent)."""
        channel_id = params["channel_id"]
        self._verify(request, channel_id)
        payload = _json_object(request.body)
        account_id = _required_str(payload, "account_id")
        try:
            self.backend.disconnect(channel_id, account_id)
        except UnknownChannelError:
            raise _channel_not_found(channel_id) from None
        if self.disconnect_body == "object":
            return json_response(HTTPStatus.OK, {})
        return EmulatorResponse(HTTPStatus.OK)

    def _verify(self, request: EmulatorRequest, channel_id: str) -> None:
        """Kommo's checks, in its order: channel (404), then the four signing headers (403)."""
        secret = self.backend.channel_secret(channel_id)
        if secret is None:
            raise _channel_not_found(channel_id)
        content_type = request.header(signing.HEADER_CONTENT_TYPE)
        if content_type != signing.CONTENT_TYPE_JSON:
            raise _forbidden(
                "INVALID_CONTENT_TYPE",
                f'Content-Type must be exactly "{signing.CONTENT_TYPE_JSON}", got {_shown(content_type)}',
            )
        content_md5 = request.header(signing.HEADER_CONTENT_MD5)
        if content_md5 is None:
            raise _forbidden("MISSING_CONTENT_MD5", "Content-MD5 header is missing")
        if content_md5 != signing.body_md5(request.body):
            raise _forbidden(
                "CONTENT_MD5_MISMATCH",
                "Content-MD5 is not the lowercase hex MD5 of the request body as received",
            )
        date = request.header(signing.HEADER_DATE)
        if date is None:
            raise _forbidden("MISSING_DATE", "Date header is missing")
        try:
            sent_at = signing.parse_http_date(date)
        except ValueError:
            raise _forbidden("INVALID_DATE", f"Date header is not an RFC 2822 date: {_shown(date)}") from None
        now = self.now()
        skew = (sent_at - now).total_seconds()
        if abs(skew) > signing.SIGNATURE_LIFETIME_SECONDS:
            direction = "ahead of" if skew > 0 else "behind"
            raise _forbidden(
                "SIGNATURE_EXPIRED",
                f"Date {date!r} is {abs(skew):.0f} s {direction} the server time "
                f"{signing.http_date(now)!r}; a signature is valid for "
                f"{signing.SIGNATURE_LIFETIME_SECONDS} s",
            )
        received = request.header(signing.HEADER_SIGNATURE)
        if received is None:
            raise _forbidden("MISSING_SIGNATURE", "X-Signature header is missing")
        expected = signing.signature(
            secret,
            signing.string_to_sign(request.method, content_md5, content_type, date, request.path),
        )
        if not signing.signatures_match(expected, received):
            raise _forbidden(
                "INVALID_SIGNATURE",
                "X-Signature is not the HMAC-SHA1 of METHOD, Content-MD5, Content-Type, Date and "
                f"path {request.path!r} (without query string) under the channel secret",
            )

    # Admin routes (unsigned; never return a secret) ----------------------------------------------

    def get_state(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``GET /_emulator/state``: channel ids, all connections, the request log, the fault plan."""
        return json_response(
            HTTPStatus.OK,
            {
                "channels": self.backend.channel_ids(),
                "connections": [c.to_dict() for c in self.backend.connections(include_disconnected=True)],
                "requests": [r.to_dict() for r in self.backend.requests()],
                "faults": self.faults.to_dict(),
            },
        )

    def reset_state(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /_emulator/reset``: forget connections and the log (channels and faults stay)."""
        self.backend.reset()
        return json_response(HTTPStatus.OK, {"status": "ok"})

    def configure_faults(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /_emulator/faults``: change the fault plan; answers with the resulting plan.

        Keys (any combination): ``clear`` (true: back to no faults, no limit, no skew; applied
        first), ``script`` (list of kinds), ``rate`` + ``kinds`` (+ ``seed``), ``rate_limit``
        (number or null), ``clock_offset_seconds``, ``retry_after``, ``delay_seconds``.
        """
        payload = _json_object(request.body, allow_empty=True)
        known = {
            "clear",
            "script",
            "rate",
            "kinds",
            "seed",
            "rate_limit",
            "clock_offset_seconds",
            "retry_after",
            "delay_seconds",
        }
        unknown = sorted(set(payload) - known)
        if unknown:
            raise AmojoError(HTTPStatus.BAD_REQUEST, "INVALID_FIELD", f"unknown key(s): {', '.join(unknown)}")
        try:
            if _optional(payload, "clear", bool, "a JSON boolean"):
                self.faults.reset()
            script = _optional(payload, "script", list, "a list of fault kinds")
            if script is not None:
                self.faults.script([_kind(item, "script") for item in script])
            if "rate" in payload or "kinds" in payload or "seed" in payload:
                rate = _number(payload, "rate", required=True)
                kinds = _optional(payload, "kinds", list, "a list of fault kinds") or []
                seed = _optional(payload, "seed", int, "an integer", allow_null=True)
                self.faults.set_rate(rate, [_kind(k, "kinds") for k in kinds], seed)
            if "rate_limit" in payload:
                self.faults.set_rate_limit(_number(payload, "rate_limit", allow_null=True))
            if "clock_offset_seconds" in payload:
                self.faults.clock_offset_seconds = _number(payload, "clock_offset_seconds")
            if "retry_after" in payload:
                retry_after = _optional(payload, "retry_after", int, "an integer")
                if retry_after is None or retry_after < 0:
                    raise _invalid("retry_after", "a non-negative integer", retry_after)
                self.faults.retry_after = retry_after
            if "delay_seconds" in payload:
                delay = _number(payload, "delay_seconds")
                if delay < 0:
                    raise _invalid("delay_seconds", "a non-negative number", delay)
                self.faults.delay_seconds = delay
        except ValueError as exc:
            raise AmojoError(HTTPStatus.BAD_REQUEST, "INVALID_FIELD", str(exc)) from None
        return json_response(HTTPStatus.OK, {"faults": self.faults.to_dict()})

    def add_channel(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /_emulator/channels``: register a channel ``{"channel_id", "secret", "name"?}``.

        The answer echoes the id and name only: admin answers never contain a secret.
        """
        payload = _json_object(request.body)
        channel_id = _required_str(payload, "channel_id")
        secret = payload.get("secret")
        if not isinstance(secret, str) or not secret:
            # Not _required_str: its message quotes the value received, and this one is a secret.
            raise AmojoError(
                HTTPStatus.BAD_REQUEST,
                "INVALID_FIELD",
                "Field secret is required and must be a non-empty string",
            )
        name = _optional(payload, "name", str, "a string") or DEFAULT_CHANNEL_NAME
        self.backend.add_channel(channel_id, secret, name)
        return json_response(HTTPStatus.OK, {"channel_id": channel_id, "name": name})


# Body parsing helpers: each error names the field, so a client can say which input is wrong.


def _json_object(body: bytes, *, allow_empty: bool = False) -> dict[str, Any]:
    """Parse the body as a JSON object (400 otherwise); unknown keys are the caller's business."""
    if allow_empty and not body.strip():
        return {}
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise AmojoError(
            HTTPStatus.BAD_REQUEST, "INVALID_JSON", "Request body is not valid UTF-8 JSON"
        ) from None
    if not isinstance(payload, dict):
        raise AmojoError(
            HTTPStatus.BAD_REQUEST,
            "INVALID_JSON",
            f"Request body must be a JSON object, got {_json_type(payload)}",
        )
    return payload


def _required_str(payload: Mapping[str, Any], name: str) -> str:
    if name not in payload:
        raise AmojoError(HTTPStatus.BAD_REQUEST, "MISSING_FIELD", f"Field {name} is required")
    value = payload[name]
    if not isinstance(value, str) or not value:
        raise _invalid(name, "a non-empty string", value)
    return value


def _optional(
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
        raise _invalid(name, expected, value)
    return value


def _number(
    payload: Mapping[str, Any], name: str, *, required: bool = False, allow_null: bool = False
) -> Any:
    value = payload.get(name)
    if value is None and (allow_null or (not required and name not in payload)):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(name, "a number", value)
    return float(value)


def _kind(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _invalid(name, "a list of fault kinds (strings)", value)
    return value


def _invalid(name: str, expected: str, value: Any) -> AmojoError:
    return AmojoError(
        HTTPStatus.BAD_REQUEST,
        "INVALID_FIELD",
        f"Field {name} must be {expected}, got {_json_type(value)} {_shown(value)}",
    )


def _json_type(value: Any) -> str:
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


def _shown(value: Any) -> str:
    """A short JSON rendering of a received value for error messages (at most 60 characters)."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _forbidden(error_type: str, description: str) -> AmojoError:
    return AmojoError(HTTPStatus.FORBIDDEN, error_type, description)


def _channel_not_found(channel_id: str) -> AmojoError:
    return AmojoError(HTTPStatus.NOT_FOUND, "CHANNEL_NOT_FOUND", f"Channel {channel_id} does not exist")
