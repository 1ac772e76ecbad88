"""One cache of what talks to Kommo in this process: chat clients per host, and per REST host its
connections, with a pace per account.

Everything here is shared by every resource and provider configuration of the process, so that one
``pulumi up`` keeps its connections alive per host and keeps each pace: amojo's per channel host (its
connects go to one channel), the REST API's per account (Kommo allows 7 requests per second to each
account). A REST client is cheap (an account, its token source, and references to what is cached
here), so it is made per call and not cached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from .settings import TransportSettings

if TYPE_CHECKING:  # requests and urllib3, on first use: not at the plugin's start-up
    from .client import ChatApiClient
    from .rest import RestApiClient, TokenSource
    from .transport import HttpTransport, RequestPacer

T = TypeVar("T")

_cache: dict[tuple[object, ...], object] = {}
_lock = threading.Lock()


def _cached(key: tuple[object, ...], make: Callable[[], T]) -> T:
    with _lock:
        found = _cache.get(key)
        if found is None:
            found = _cache[key] = make()
        return found  # type: ignore[return-value]


def chat_client(base_url: str, settings: TransportSettings) -> ChatApiClient:
    """The Chat API client of a host: one pace and one set of connections for every channel there."""
    from .client import ChatApiClient

    return _cached(
        ("chat", base_url, settings),
        lambda: ChatApiClient(
            base_url,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            retry=settings.max_retries,
            max_requests_per_second=settings.max_requests_per_second,
        ),
    )


def rest_client(
    base_url: str, account: str, tokens: TokenSource, settings: TransportSettings
) -> RestApiClient:
    """A client for one account's REST API at ``base_url`` (its own host, or the ``apiBaseUrl`` every
    account shares), through the host's cached transports and the account's cached pace."""
    from .rest import RestApiClient

    repeatable, once = _rest_transports(base_url, settings)
    return RestApiClient(
        account, tokens, repeatable=repeatable, once=once, pacer=account_pacer(account, settings)
    )


def account_pacer(account: str, settings: TransportSettings) -> RequestPacer:
    """The pace of one account's REST calls, whichever host and provider configuration they go through."""
    from .transport import RequestPacer

    return _cached(
        ("pace", account, settings.max_requests_per_second),
        lambda: RequestPacer(settings.max_requests_per_second),
    )


def _rest_transports(base_url: str, settings: TransportSettings) -> tuple[HttpTransport, HttpTransport]:
    """The host's two transports: one retrying 5xx and read timeouts, for calls that may be repeated,
    and one retrying only what never reached Kommo (connection errors, 429), for creates."""
    from .transport import HttpTransport, default_retry

    def make() -> tuple[HttpTransport, HttpTransport]:
        every = frozenset({"GET", "PATCH", "DELETE", "POST"})
        # urllib3 reads an empty set of methods as "every method"; only creates go through the second
        # transport, so naming GET there leaves every create unrepeated after it may have reached Kommo.
        reads = frozenset({"GET"})
        return (
            HttpTransport(base_url, retry=default_retry(settings.max_retries, every), settings=settings),
            HttpTransport(base_url, retry=default_retry(settings.max_retries, reads), settings=settings),
        )

    return _cached(("rest", base_url, settings), make)
