"""The Chat API client: signed connect/disconnect to amojo.

Transport (sessions, retries, pacing, timeouts) is :mod:`kommo_provider.transport`; this module adds the
signature and the translation of amojo's statuses into :mod:`kommo_provider.exceptions`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

import requests
from urllib3.util.retry import Retry

from . import signing
from .auth import KommoSignatureAuth, utc_now
from .exceptions import (
    ApiError,
    ChannelNotFoundError,
    InvalidRequestError,
    RateLimitedError,
    ServerError,
    SignatureRejectedError,
    UnexpectedResponseError,
)
from .hosts import resolve_base_url
from .payloads import ChannelCredentials, ConnectRequest, ConnectResult
from .settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_REQUESTS_PER_SECOND,
    DEFAULT_READ_TIMEOUT,
    TransportSettings,
)
from .transport import HttpTransport, default_retry, snippet

__all__ = ["API_PREFIX", "ChatApiClient"]

log = logging.getLogger("kommo_provider")

API_PREFIX: Final = "/v2/origin/custom"
CLOCK_SKEW_REPORT_SECONDS: Final = 60.0


class ChatApiClient:
    """Connects and disconnects Kommo accounts to a chat channel.

    Thread-safe: each thread gets its own ``requests.Session`` (connection pools stay warm per
    thread), and the pacer is shared. The secret is passed per call, so one client serves every
    channel and survives a secret rotation.

    Usage::

        client = ChatApiClient("kommo")
        result = client.connect(ChannelCredentials(channel_id, secret), account_id, title="Bot")
        result.scope_id
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        retry: Retry | int | None = None,
        max_requests_per_second: float | None = DEFAULT_MAX_REQUESTS_PER_SECOND,
        allow_insecure_http: bool = False,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.base_url = resolve_base_url(base_url, allow_insecure=allow_insecure_http)
        if not isinstance(retry, Retry):
            retry = default_retry() if retry is None else default_retry(retry)
        settings = TransportSettings(
            max_requests_per_second=max_requests_per_second or 0,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self.transport = HttpTransport(self.base_url, retry=retry, settings=settings)
        self.clock = clock

    def __repr__(self) -> str:
        return f"ChatApiClient({self.base_url!r})"

    # -- public API -------------------------------------------------------------------------

    def connect(self, channel: ChannelCredentials, account_id: str, **options: Any) -> ConnectResult:
        """Connect ``account_id`` (its amojo_id) to the channel and return amojo's answer.

        ``options`` are the connect body's other fields under Kommo's names (``title``,
        ``hook_api_version``, ``is_time_window_disabled``); ``None`` leaves a field out. Idempotent on
        amojo: connecting a connected account returns the same scope_id.
        """
        request = ConnectRequest(account_id, options)
        response = self._send("POST", channel, "connect", request.to_json())
        try:
            data = response.json()
        except ValueError as exc:
            raise UnexpectedResponseError(
                "connect answered 200 with a body that is not JSON",
                status=response.status_code,
                method="POST",
                path=self._path(channel, "connect"),
                details=snippet(response),
            ) from exc
        return ConnectResult.from_json(data, sent=request)

    def disconnect(self, channel: ChannelCredentials, account_id: str) -> None:
        """Disconnect ``account_id`` from the channel; amojo answers 200 with an empty body or ``{}``."""
        self._send("DELETE", channel, "disconnect", {"account_id": account_id})

    # -- transport --------------------------------------------------------------------------

    def _path(self, channel: ChannelCredentials, operation: str) -> str:
        return f"{API_PREFIX}/{quote(channel.channel_id, safe='')}/{operation}"

    def _send(
        self, method: str, channel: ChannelCredentials, operation: str, payload: dict[str, Any]
    ) -> requests.Response:
        path = self._path(channel, operation)
        response = self.transport.send(
            method,
            path,
            data=signing.encode_json(payload),
            auth=KommoSignatureAuth(channel.secret, self.clock),
            headers={"Content-Type": signing.CONTENT_TYPE_JSON},
        )
        if response.status_code == 200:
            return response
        raise self._error(response, method, path, channel)

    def _error(
        self, response: requests.Response, method: str, path: str, channel: ChannelCredentials
    ) -> ApiError:
        status = response.status_code
        details = server_details(response)
        common: dict[str, Any] = {"status": status, "method": method, "path": path, "details": details}
        if status == 403:
            hint = (
                f"amojo rejected the request signature (403): check that the channel secret "
                f"belongs to channel {channel.channel_id} and that this machine's clock is right"
            )
            skew = self._clock_skew(response)
            if skew is not None and abs(skew) > CLOCK_SKEW_REPORT_SECONDS:
                hint += (
                    f"; the server's clock differs from this machine's by {skew:+.0f} s "
                    f"(signatures are valid for 15 minutes)"
                )
            return SignatureRejectedError(hint, **common)
        if status == 404:
            return ChannelNotFoundError(
                f"channel {channel.channel_id} is not known at {self.base_url} (404): check the "
                "channel id and the host (kommo, amocrm.ru or amocrm.com)",
                **common,
            )
        if status == 400:
            return InvalidRequestError("amojo rejected the request data (400)", **common)
        if status == 429:
            return RateLimitedError(
                "amojo is rate limiting this channel (429) and retries did not get through; "
                "lower the request rate (kommo:maxRequestsPerSecond) or try again later",
                **common,
            )
        if status >= 500:
            return ServerError(f"amojo failed with {status} after retries; try again later", **common)
        return ApiError(f"amojo answered with unexpected status {status}", **common)

    def _clock_skew(self, response: requests.Response) -> float | None:
        """Seconds by which the server's ``Date`` answer is ahead of (+) or behind (-) our clock."""
        value = response.headers.get("Date")
        if not value:
            return None
        try:
            server = signing.parse_http_date(value)
        except ValueError:
            return None
        return (server - self.clock()).total_seconds()


def server_details(response: requests.Response) -> str | None:
    """The server's own words from an error body: ``error_description`` if JSON, else a snippet."""
    try:
        data = response.json()
    except ValueError:
        return snippet(response)
    if isinstance(data, dict):
        for key in ("error_description", "detail", "message", "error"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
        return json.dumps(data, ensure_ascii=False)[:500] or None
    return snippet(response)
