"""Handles amojo requests: Kommo's header checks, the body fields, one backend call, the answer.

Checks run in the order amojo documents them: unknown channel (404), then the four signing headers
(403), then the body (400). No state lives here (it is in :mod:`.models`) and no sockets either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Final, Literal

from kommo_provider import signing
from kommo_provider.emulator.amojo import urls
from kommo_provider.emulator.amojo.exceptions import (
    AmojoError,
    channel_not_found,
    forbidden,
    invalid,
    json_object,
    optional,
    required_str,
    shown,
)
from kommo_provider.emulator.amojo.models import AmojoBackend, UnknownChannelError
from kommo_provider.emulator.http import EmulatorRequest, EmulatorResponse, compile_routes, json_response
from kommo_provider.emulator.ids import canonical_id

DisconnectBody = Literal["empty", "object"]
"""What a successful disconnect returns: no body (amoCRM docs) or ``{}`` (Kommo's OpenAPI)."""

HOOK_API_VERSIONS: Final = ("v1", "v2")
DEFAULT_HOOK_API_VERSION: Final = "v2"


class AmojoResponse:
    """Turns Chat API requests into answers for one backend; one method per operation."""

    routes = compile_routes(urls.url_paths, api=True)

    def __init__(
        self,
        backend: AmojoBackend,
        *,
        now: Callable[[], datetime],
        disconnect_body: DisconnectBody = "empty",
    ) -> None:
        """``now`` is the emulator clock (aware UTC), which the ``Date`` window is checked against."""
        if disconnect_body not in ("empty", "object"):
            raise ValueError('disconnect_body must be "empty" or "object"')
        self.backend = backend
        self.now = now
        self.disconnect_body: DisconnectBody = disconnect_body

    # What the app needs from a service ---------------------------------------------------------

    def error(
        self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> EmulatorResponse:
        return AmojoError(status, code, detail, headers).to_response()

    def rate_limit_key(self, request: EmulatorRequest, params: Mapping[str, str]) -> str | None:
        """Buckets are per channel, as a gateway in front of amojo would key them."""
        return f"channel {canonical_id(params['channel_id'])}"

    def logged_headers(self, request: EmulatorRequest) -> dict[str, str]:
        """All headers as sent: amojo requests carry a signature, never the secret itself."""
        return request.headers_as_sent()

    # Chat API operations ------------------------------------------------------------------------

    def connect(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /v2/origin/custom/{channel_id}/connect``: connect the channel to an account."""
        channel_id = params["channel_id"]
        self._verify(request, channel_id)
        payload = json_object(request.body)
        account_id = required_str(payload, "account_id")
        # fcritic/amojo-api-client sends "title": null when it has none, so null means "absent".
        title = optional(payload, "title", str, "a string", allow_null=True) or ""
        hook_api_version = optional(payload, "hook_api_version", str, '"v1" or "v2"')
        if hook_api_version is None:
            hook_api_version = DEFAULT_HOOK_API_VERSION
        elif hook_api_version not in HOOK_API_VERSIONS:
            raise invalid("hook_api_version", '"v1" or "v2"', hook_api_version)
        is_time_window_disabled = optional(
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
            raise channel_not_found(channel_id) from None
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
        payload = json_object(request.body)
        account_id = required_str(payload, "account_id")
        try:
            self.backend.disconnect(channel_id, account_id)
        except UnknownChannelError:
            raise channel_not_found(channel_id) from None
        if self.disconnect_body == "object":
            return json_response(HTTPStatus.OK, {})
        return EmulatorResponse(status=HTTPStatus.OK)

    def _verify(self, request: EmulatorRequest, channel_id: str) -> None:
        """Kommo's checks, in its order: channel (404), then the four signing headers (403)."""
        secret = self.backend.channel_secret(channel_id)
        if secret is None:
            raise channel_not_found(channel_id)
        content_type = request.header(signing.HEADER_CONTENT_TYPE)
        if content_type != signing.CONTENT_TYPE_JSON:
            raise forbidden(
                "INVALID_CONTENT_TYPE",
                f'Content-Type must be exactly "{signing.CONTENT_TYPE_JSON}", got {shown(content_type)}',
            )
        content_md5 = request.header(signing.HEADER_CONTENT_MD5)
        if content_md5 is None:
            raise forbidden("MISSING_CONTENT_MD5", "Content-MD5 header is missing")
        if content_md5 != signing.body_md5(request.body):
            raise forbidden(
                "CONTENT_MD5_MISMATCH",
                "Content-MD5 is not the lowercase hex MD5 of the request body as received",
            )
        date = request.header(signing.HEADER_DATE)
        if date is None:
            raise forbidden("MISSING_DATE", "Date header is missing")
        try:
            sent_at = signing.parse_http_date(date)
        except ValueError:
            raise forbidden("INVALID_DATE", f"Date header is not an RFC 2822 date: {shown(date)}") from None
        now = self.now()
        skew = (sent_at - now).total_seconds()
        if abs(skew) > signing.SIGNATURE_LIFETIME_SECONDS:
            direction = "ahead of" if skew > 0 else "behind"
            raise forbidden(
                "SIGNATURE_EXPIRED",
                f"Date {date!r} is {abs(skew):.0f} s {direction} the server time "
                f"{signing.http_date(now)!r}; a signature is valid for "
                f"{signing.SIGNATURE_LIFETIME_SECONDS} s",
            )
        received = request.header(signing.HEADER_SIGNATURE)
        if received is None:
            raise forbidden("MISSING_SIGNATURE", "X-Signature header is missing")
        expected = signing.signature(
            secret,
            signing.string_to_sign(request.method, content_md5, content_type, date, request.raw_path),
        )
        if not signing.signatures_match(expected, received):
            raise forbidden(
                "INVALID_SIGNATURE",
                "X-Signature is not the HMAC-SHA1 of METHOD, Content-MD5, Content-Type, Date and "
                f"path {request.raw_path!r} (without query string) under the channel secret",
            )
