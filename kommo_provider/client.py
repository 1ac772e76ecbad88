"""The Chat API client: signed connect/disconnect over a retrying ``requests.Session``.

Transport policy in one place: urllib3 ``Retry`` for connection errors, read timeouts, 429 (with
``Retry-After``) and 5xx; a pacer that keeps a process under a request rate; and the translation of
every HTTP status and transport failure into :mod:`kommo_provider.exceptions`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from . import signing
from .auth import KommoSignatureAuth, utc_now
from .exceptions import (
    ChannelNotFoundError,
    ChatApiError,
    InvalidRequestError,
    RateLimitedError,
    ServerError,
    SignatureRejectedError,
    TransportError,
    UnexpectedResponseError,
)
from .hosts import resolve_base_url
from .payloads import ChannelCredentials, ConnectRequest, ConnectResult
from .settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_REQUESTS_PER_SECOND,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_RETRIES,
    TransportSettings,
)

__all__ = [
    "API_PREFIX",
    "BoundedRetry",
    "ChatApiClient",
    "RequestPacer",
    "client_for",
    "default_retry",
]

log = logging.getLogger("kommo_provider")

API_PREFIX: Final = "/v2/origin/custom"
MAX_RETRY_AFTER_SECONDS: Final = 30.0
CLOCK_SKEW_REPORT_SECONDS: Final = 60.0


class BoundedRetry(Retry):
    """urllib3 ``Retry`` whose honoured ``Retry-After`` is capped.

    A retry re-sends the same signed headers, and the signature dies 15 minutes after its Date, so
    no single wait may be long: with the defaults the worst case (8 retries of at most 30 s each,
    plus their timeouts) stays far inside that window.
    """

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, MAX_RETRY_AFTER_SECONDS)



def default_retry(total: int = DEFAULT_RETRIES) -> Retry:
    """The retry policy: connection errors, read timeouts, 429 and 5xx, for POST and DELETE.

    Retrying POST/DELETE is safe here because connect and disconnect are idempotent on amojo: a
    repeated connect returns the same scope_id, a repeated disconnect answers 200.
    """
    return BoundedRetry(
        total=total,
        connect=total,
        read=total,
        status=total,
        other=0,
        backoff_factor=0.25,
        backoff_max=8.0,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"POST", "DELETE"}),
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        redirect=0,
    )


class RequestPacer:
    """Spaces request starts at least ``1/per_second`` apart, across all threads of a process.

    amojo throttles with 429s; waiting before sending keeps a large ``pulumi up`` under the limit
    instead of paying a ``Retry-After`` sleep per rejected request.
    """

    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second and per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


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
        self.timeout = (connect_timeout, read_timeout)
        if retry is None:
            retry = default_retry()
        elif isinstance(retry, int):
            retry = default_retry(retry)
        self.retry = retry
        self.pacer = RequestPacer(max_requests_per_second)
        self.clock = clock
        self._local = threading.local()

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
                details=_snippet(response),
            ) from exc
        return ConnectResult.from_json(data, sent=request)

    def disconnect(self, channel: ChannelCredentials, account_id: str) -> None:
        """Disconnect ``account_id`` from the channel; amojo answers 200 with an empty body or ``{}``."""
        self._send("DELETE", channel, "disconnect", {"account_id": account_id})

    # -- transport --------------------------------------------------------------------------

    def session(self) -> requests.Session:
        """This thread's session, created on first use with the retry adapter mounted."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=self.retry, pool_connections=1, pool_maxsize=4)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = "kommo-provider"
            _read_environment_once(session, self.base_url)
            self._local.session = session
        return session

    def _path(self, channel: ChannelCredentials, operation: str) -> str:
        return f"{API_PREFIX}/{quote(channel.channel_id, safe='')}/{operation}"

    def _send(
        self, method: str, channel: ChannelCredentials, operation: str, payload: dict[str, Any]
    ) -> requests.Response:
        path = self._path(channel, operation)
        body = signing.encode_json(payload)
        auth = KommoSignatureAuth(channel.secret, self.clock)
        self.pacer.wait()
        started = time.monotonic()
        try:
            response = self.session().request(
                method,
                self.base_url + path,
                data=body,
                auth=auth,
                timeout=self.timeout,
                headers={"Content-Type": signing.CONTENT_TYPE_JSON},
            )
        except requests.RequestException as exc:
            log.debug(
                "%s %s -> %s after %.1f ms",
                method,
                path,
                type(exc).__name__,
                (time.monotonic() - started) * 1000,
            )
            raise self._transport_error(exc, method, path) from exc
        log.debug(
            "%s %s -> %s in %.1f ms", method, path, response.status_code, (time.monotonic() - started) * 1000
        )
        if response.status_code == 200:
            return response
        raise self._error(response, method, path, channel)

    def _transport_error(self, exc: requests.RequestException, method: str, path: str) -> TransportError:
        # After the last retry, urllib3 wraps a read timeout in MaxRetryError -> ConnectionError.
        if isinstance(exc, requests.Timeout) or isinstance(_innermost(exc), (TimeoutError, ReadTimeoutError)):
            return TransportError(
                f"no answer from {self.base_url} within {self.timeout[1]:g} s after retries",
                method=method,
                path=path,
            )
        return TransportError(f"could not reach {self.base_url} ({_reason(exc)})", method=method, path=path)

    def _error(
        self, response: requests.Response, method: str, path: str, channel: ChannelCredentials
    ) -> ChatApiError:
        status = response.status_code
        details = _server_details(response)
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
        return ChatApiError(f"amojo answered with unexpected status {status}", **common)

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


_clients: dict[tuple[str, TransportSettings], ChatApiClient] = {}
_clients_lock = threading.Lock()


def client_for(base_url: str, settings: TransportSettings) -> ChatApiClient:
    """One client per host and settings in this process, so the pacer and connection pools are shared."""
    key = (base_url, settings)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = ChatApiClient(
                base_url,
                connect_timeout=settings.connect_timeout,
                read_timeout=settings.read_timeout,
                retry=settings.max_retries,
                max_requests_per_second=settings.max_requests_per_second,
            )
            _clients[key] = client
        return client


def _read_environment_once(session: requests.Session, base_url: str) -> None:
    """Apply proxy and CA-bundle settings from the environment once, not on every request.

    With ``trust_env`` on, requests re-reads proxies, ``no_proxy`` and netrc per request (about 1 ms
    each here); the host never changes for a client, so the answer is the same every time.
    """
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


def _server_details(response: requests.Response) -> str | None:
    """The server's own words from an error body: ``error_description`` if JSON, else a snippet."""
    try:
        data = response.json()
    except ValueError:
        return _snippet(response)
    if isinstance(data, dict):
        for key in ("error_description", "detail", "message", "error"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
        return json.dumps(data, ensure_ascii=False)[:500] or None
    return _snippet(response)


def _snippet(response: requests.Response) -> str | None:
    text = response.text.strip()
    return text[:300] if text else None


def _innermost(exc: BaseException) -> BaseException:
    """Follow ``reason`` / ``__cause__`` links down to the original error."""
    inner: BaseException = exc
    for _ in range(10):
        nxt = getattr(inner, "reason", None) or inner.__cause__ or inner.__context__
        if not isinstance(nxt, BaseException) or nxt is inner:
            break
        inner = nxt
    return inner


def _reason(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 error, without the URL-laden wrapper text."""
    inner = _innermost(exc)
    return type(inner).__name__ + (f": {inner}" if str(inner) and len(str(inner)) < 200 else "")
