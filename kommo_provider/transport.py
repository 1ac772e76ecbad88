"""HTTP to one Kommo host: sessions, retries, pacing, timeouts, and transport failures as exceptions.

Both API clients stand on this: :class:`~kommo_provider.client.ChatApiClient` (amojo, signed) and
:class:`~kommo_provider.rest.RestApiClient` (the REST API v4, a bearer token). Each adds its own
authentication and maps its own statuses; what is the same for any call to Kommo lives here: a
``requests.Session`` per thread with a urllib3 ``Retry`` adapter mounted, a pacer shared by every thread
that keeps a process under Kommo's documented 7 requests per second, and the translation of every
``requests`` failure into :class:`~kommo_provider.exceptions.TransportError`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any, Final

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError, ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from .exceptions import TransportError
from .settings import DEFAULT_RETRIES, TransportSettings

log = logging.getLogger("kommo_provider")

MAX_RETRY_AFTER_SECONDS: Final = 30.0
USER_AGENT: Final = "kommo-provider"


class BoundedRetry(Retry):
    """urllib3 ``Retry`` whose honoured ``Retry-After`` is capped, and which always retries a 429.

    An amojo retry re-sends the same signed headers, and the signature dies 15 minutes after its Date,
    so no single wait may be long: with the defaults the worst case (8 retries of at most 30 s each,
    plus their timeouts) stays far inside that window. A 429 means the request was not processed, so
    it is retried whatever the method, even one that is not safe to repeat after a 5xx.
    """

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, MAX_RETRY_AFTER_SECONDS)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429 and self.total:
            return True
        return bool(super().is_retry(method, status_code, has_retry_after))


def default_retry(
    total: int = DEFAULT_RETRIES, repeatable: frozenset[str] = frozenset({"POST", "DELETE"})
) -> Retry:
    """The retry policy: connection errors and 429 for every call; read timeouts and 5xx for the
    methods in ``repeatable``, the ones whose repeat does no harm.

    amojo's connect and disconnect are idempotent (a repeated connect returns the same scope_id, a
    repeated disconnect answers 200), so they are repeatable; a REST create is not, since a timed-out
    create may have made the object already.
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
        allowed_methods=repeatable,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        redirect=0,
    )


class RequestPacer:
    """Spaces request starts at least ``1/per_second`` apart, across all threads of a process.

    Kommo throttles with 429s; waiting before sending keeps a large ``pulumi up`` under the limit
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


class HttpTransport:
    """Sends requests to one host, paced, retried and timed; thread-safe.

    Each thread gets its own ``requests.Session`` (connection pools stay warm per thread); the pacer is
    shared by all of them.
    """

    def __init__(self, base_url: str, *, retry: Retry, settings: TransportSettings) -> None:
        self.base_url = base_url
        self.timeout = (settings.connect_timeout, settings.read_timeout)
        self.retry = retry
        self.pacer = RequestPacer(settings.max_requests_per_second)
        self._local = threading.local()

    def session(self) -> requests.Session:
        """This thread's session, created on first use with the retry adapter mounted."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=self.retry, pool_connections=1, pool_maxsize=4)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = USER_AGENT
            _read_environment_once(session, self.base_url)
            self._local.session = session
        return session

    def send(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: requests.auth.AuthBase | None = None,
        params: Mapping[str, str] | None = None,
        pacer: RequestPacer | None = None,
    ) -> requests.Response:
        """One paced call, retried as the policy says; a call with no HTTP answer raises
        :class:`TransportError`. The caller maps statuses.

        ``pacer`` paces this call instead of the host's own pacer: Kommo limits each account, and many
        accounts may share one host (an emulator, a gateway) and its connections.
        """
        (pacer or self.pacer).wait()
        started = time.monotonic()
        try:
            response = self.session().request(
                method,
                self.base_url + path,
                data=data,
                auth=auth,
                params=params,
                timeout=self.timeout,
                headers=dict(headers or {}),
            )
        except requests.RequestException as exc:
            elapsed = (time.monotonic() - started) * 1000
            log.debug("%s %s -> %s after %.1f ms", method, path, type(exc).__name__, elapsed)
            raise self.transport_error(exc, method, path) from exc
        elapsed = (time.monotonic() - started) * 1000
        log.debug("%s %s -> %s in %.1f ms", method, path, response.status_code, elapsed)
        return response

    def transport_error(self, exc: requests.RequestException, method: str, path: str) -> TransportError:
        """The failure in words that say whether Kommo may have acted: a request that never left (no
        connection) did nothing; one that timed out or lost its connection after it was sent may have."""
        inner = innermost(exc)
        if isinstance(exc, requests.ConnectTimeout) or isinstance(inner, NewConnectionError):
            return TransportError(
                f"could not reach {self.base_url} ({reason(exc)})", method=method, path=path, sent=False
            )
        if isinstance(exc, requests.Timeout) or isinstance(inner, (TimeoutError, ReadTimeoutError)):
            return TransportError(
                f"no answer from {self.base_url} within {self.timeout[1]:g} s after the request was sent",
                method=method,
                path=path,
                sent=True,
            )
        if isinstance(inner, (ConnectionRefusedError, OSError)) and not _after_sending(exc):
            return TransportError(
                f"could not reach {self.base_url} ({reason(exc)})", method=method, path=path, sent=False
            )
        return TransportError(
            f"the connection to {self.base_url} broke after the request was sent ({reason(exc)})",
            method=method,
            path=path,
            sent=True,
        )


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


def snippet(response: requests.Response) -> str | None:
    """The start of a body, for an error message about a body that is not what was expected."""
    text = response.text.strip()
    return text[:300] if text else None


def _after_sending(exc: BaseException) -> bool:
    """Whether the failure came while reading the answer (the request had been sent): urllib3 calls
    that a protocol error (the server closed or reset the connection instead of answering)."""
    chain: BaseException | None = exc
    for _ in range(10):
        if chain is None:
            return False
        if isinstance(chain, (ProtocolError, requests.exceptions.ChunkedEncodingError)):
            return True
        chain = getattr(chain, "reason", None) or chain.__cause__ or chain.__context__
    return False


def innermost(exc: BaseException) -> BaseException:
    """Follow ``reason`` / ``__cause__`` links down to the original error."""
    inner: BaseException = exc
    for _ in range(10):
        nxt = getattr(inner, "reason", None) or inner.__cause__ or inner.__context__
        if not isinstance(nxt, BaseException) or nxt is inner:
            break
        inner = nxt
    return inner


def reason(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 error, without the URL-laden wrapper text."""
    inner = innermost(exc)
    return type(inner).__name__ + (f": {inner}" if str(inner) and len(str(inner)) < 200 else "")
