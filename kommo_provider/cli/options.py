"""Options shared by several commands: the secret file, the connection's ids, and where and how to call.

``connect`` and ``disconnect`` take the same ``(channel, account)`` pair and the same host, timeout
and retry options; both turn them into a :class:`ChatApiClient` and credentials here, the same way.
"""

from __future__ import annotations

import argparse
import logging
from typing import Final

from ..client import ChatApiClient
from ..exceptions import ConfigurationError, UsageError
from ..hosts import KOMMO, resolve_base_url
from ..payloads import ChannelCredentials
from ..settings import DEFAULT_CONNECT_TIMEOUT, DEFAULT_RETRIES
from . import argtypes
from .secrets import CHANNEL_SECRET, load_secret

CLI_REGIONS: Final = ("kommo", "amocrm.ru", "amocrm.com")

log = logging.getLogger(__name__)


def add_secret_file(parser: argparse.ArgumentParser) -> None:
    """``--secret-file``: the only way besides the environment to give the channel secret."""
    parser.add_argument(
        "--secret-file",
        metavar="PATH",
        help=f"read the channel secret from PATH ('-' = stdin) instead of ${CHANNEL_SECRET.env_var}",
    )


def add_connection_ids(parser: argparse.ArgumentParser) -> None:
    """The (channel, account) pair that a connection is."""
    parser.add_argument("--channel-id", required=True, type=argtypes.uuid_of("channel_id"), metavar="UUID")
    parser.add_argument("--account-id", required=True, type=argtypes.uuid_of("account_id"), metavar="UUID")


def add_host_options(parser: argparse.ArgumentParser) -> None:
    """Where the Chat API is and how patiently to call it, plus ``--secret-file``."""
    hosts = parser.add_mutually_exclusive_group()
    hosts.add_argument("--base-url", metavar="URL", help=f"Chat API base URL (default {KOMMO})")
    hosts.add_argument("--region", choices=CLI_REGIONS, help="named Chat API host instead of --base-url")
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow plain http:// to a non-loopback host (the signed headers then travel in clear text)",
    )
    parser.add_argument(
        "--timeout",
        type=argtypes.timeout_seconds,
        metavar="SECONDS",
        help="read timeout per attempt (connect timeout is the smaller of this and "
        f"{DEFAULT_CONNECT_TIMEOUT:g} s)",
    )
    parser.add_argument(
        "--retries",
        type=argtypes.retry_count,
        metavar="N",
        help=f"retries for connection errors, 429 and 5xx (default {DEFAULT_RETRIES})",
    )
    add_secret_file(parser)


def _base_url(args: argparse.Namespace) -> str:
    region: str | None = args.region
    base_url: str | None = args.base_url
    if base_url is not None and not base_url.strip():
        # An unset shell variable ("--base-url $URL") must not silently mean production Kommo.
        raise UsageError(
            f"argument --base-url: is empty; leave --base-url out for the default ({KOMMO}) "
            "or give a region or URL"
        )
    try:
        return resolve_base_url(region or base_url, allow_insecure=args.allow_insecure_http)
    except ValueError as exc:  # ConfigurationError; any other ValueError is reported the same way
        reason = exc.reason if isinstance(exc, ConfigurationError) else str(exc)
        raise UsageError(f"argument --base-url: {reason}") from exc


def client_from_args(args: argparse.Namespace) -> ChatApiClient:
    """A client for the host options; a bad ``--base-url`` is a usage error and nothing is sent."""
    resolved = _base_url(args)
    allow_insecure: bool = args.allow_insecure_http
    timeout: float | None = args.timeout
    retries: int | None = args.retries
    log.debug("Chat API base URL %s", resolved)
    if timeout is None:
        return ChatApiClient(resolved, retry=retries, allow_insecure_http=allow_insecure)
    return ChatApiClient(
        resolved,
        connect_timeout=min(timeout, DEFAULT_CONNECT_TIMEOUT),
        read_timeout=timeout,
        retry=retries,
        allow_insecure_http=allow_insecure,
    )


def credentials_from_args(args: argparse.Namespace) -> ChannelCredentials:
    """``--channel-id`` with its secret, loaded by the one rule (environment or ``--secret-file``)."""
    return ChannelCredentials(args.channel_id, load_secret(CHANNEL_SECRET, args.secret_file))
