"""``kommo-chat token``: a ready-made ``tokenCommand`` asking a vendor's token service for an account's token.

A vendor's integration installed in many accounts has an OAuth token per account, which its backend keeps
and refreshes (Kommo's refresh tokens are single-use, so the backend must stay their only user). The
provider runs ``tokenCommand`` with the account's host in ``KOMMO_ACCOUNT``; this command sends
``GET <URL>/<host>`` to the backend, with ``Authorization: Bearer <key>`` when ``KOMMO_TOKEN_SERVICE_KEY``
(or ``--key-file``) gives a key, and prints ``{"accessToken": "...", "expiresAt": <unix seconds>}`` on
one line: the form the provider reads. The service may answer that JSON (``expiresAt`` as unix seconds
or RFC 3339) or the token alone as text; ``expiresAt`` then comes from the token's own ``exp`` when it
is a JWT, and is left out when nothing tells it.

A failure is one line naming the account and the HTTP status, never the body (it may hold a token) nor
the key. Exit status: 0 with the token printed, 1 when no token came, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import time
from typing import Any, Final
from urllib.parse import urlsplit

import requests

from ..exceptions import CliError, ConfigurationError, UsageError
from ..hosts import is_loopback_host, resolve_account_domain
from ..tokens import read_token_answer
from ..transport import reason
from . import argtypes
from .secrets import TOKEN_SERVICE_KEY, load_secret, register

NAME: Final = "token"
HELP: Final = "print an account's access token from the vendor's token service (a tokenCommand)"
DESCRIPTION: Final = (
    "Ask a token service for the access token of the account in $KOMMO_ACCOUNT (GET URL/<account host>) "
    'and print {"accessToken": ..., "expiresAt": ...}: the tokenCommand of the kommo provider.'
)
ACCOUNT_ENV: Final = "KOMMO_ACCOUNT"
"""The account's host, as the provider sets it when it runs ``tokenCommand``."""
TIMEOUT_SECONDS: Final = 10.0
MAX_ANSWER_BYTES: Final = 64 * 1024
"""More than any token answer: a longer body is not one."""
_B64TOKEN: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
"""A bearer token's characters (RFC 6750 section 2.1): what may follow ``Bearer`` in a header."""

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        f"The account comes from ${ACCOUNT_ENV} (a host such as example.kommo.com, or a bare subdomain); "
        f"the service's key from ${TOKEN_SERVICE_KEY.env_var} or --key-file, never from an argument."
    )
    parser.add_argument(
        "--url",
        required=True,
        type=argtypes.service_url,
        metavar="URL",
        help=f"the token service: the account's host is appended, e.g. {argtypes.SERVICE_URL_EXAMPLE}",
    )
    parser.add_argument(
        "--key-file",
        metavar="PATH",
        help=f"read the service's key from PATH instead of ${TOKEN_SERVICE_KEY.env_var}",
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow plain http:// to a non-loopback service (the tokens then travel in clear text)",
    )


def run(args: argparse.Namespace) -> int:
    url = _checked_url(args.url, allow_insecure=bool(args.allow_insecure_http))
    account = _account()
    key = _key(args.key_file)
    token, expires_at = fetch_token(url, account, key)
    answer: dict[str, Any] = {"accessToken": token}
    if expires_at is not None:
        answer["expiresAt"] = expires_at
    print(json.dumps(answer))
    return 0


def _account() -> str:
    """The account's host from ``KOMMO_ACCOUNT`` (``example`` means ``example.kommo.com``)."""
    value = os.environ.get(ACCOUNT_ENV, "")
    if not value.strip():
        raise UsageError(
            f"{ACCOUNT_ENV} is not set: the kommo provider sets it to the account's host when it runs "
            f"tokenCommand; by hand, run {ACCOUNT_ENV}=example.kommo.com kommo-chat {NAME} --url URL"
        )
    try:
        return resolve_account_domain(value, field=ACCOUNT_ENV)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None


def _checked_url(url: str, *, allow_insecure: bool) -> str:
    """``url``, unless it is plain http to another machine, which would carry tokens in clear text."""
    parts = urlsplit(url)
    if parts.scheme == "http" and not allow_insecure and not is_loopback_host(parts.hostname or ""):
        raise UsageError(
            "argument --url: plain http to a non-loopback host would carry the tokens and the key in clear "
            "text; use https (or --allow-insecure-http)"
        )
    return url


def _key(key_file: str | None) -> str | None:
    """The service's key from ``--key-file`` or the environment; ``None`` when neither gives one."""
    if key_file is None and not os.environ.get(TOKEN_SERVICE_KEY.env_var):
        return None
    return load_secret(TOKEN_SERVICE_KEY, key_file)


def fetch_token(url: str, account: str, key: str | None) -> tuple[str, int | None]:
    """The account's token and its expiry (unix seconds) from ``GET <url>/<account>``; a ``CliError`` else."""
    headers = {"Accept": "application/json, text/plain"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    started = time.monotonic()
    try:
        with requests.Session() as session:
            # No redirects: one could lead the key elsewhere, or to plain http.
            response = session.get(
                f"{url}/{account}",
                headers=headers,
                timeout=TIMEOUT_SECONDS,
                allow_redirects=False,
                stream=True,
            )
            with response:
                body = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
    except requests.Timeout:
        raise CliError(
            f"the token service did not answer for account {account} within {TIMEOUT_SECONDS:g} s"
        ) from None
    except (requests.RequestException, OSError) as exc:
        raise CliError(
            f"the token service could not be reached for account {account} ({reason(exc)})"
        ) from None
    status = response.status_code
    log.debug("GET %s/%s -> %d in %.0f ms", url, account, status, (time.monotonic() - started) * 1000)
    if status != 200:
        raise CliError(f"the token service answered HTTP {status} for account {account}{_hint(status, key)}")
    return _read_answer(body, response.headers.get("Content-Type", ""), account)


def _hint(status: int, key: str | None) -> str:
    if status in (401, 403):
        sent = "with the key given" if key is not None else f"without a key (${TOKEN_SERVICE_KEY.env_var})"
        return f" (asked {sent})"
    if status == 404:
        return " (it does not know the account)"
    return ""


def _read_answer(body: bytes, content_type: str, account: str) -> tuple[str, int | None]:
    """The token and its expiry from a 200 answer: JSON ``{"accessToken", "expiresAt"?}`` or the token."""

    def unusable(what: str) -> CliError:
        return CliError(f"the token service answered HTTP 200 for account {account}, but {what}")

    if len(body) > MAX_ANSWER_BYTES:
        raise unusable(f"with more than {MAX_ANSWER_BYTES // 1024} KiB, which is no token")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise unusable("not with UTF-8 text") from None
    if "json" in content_type.lower() and not text.strip().startswith("{"):
        raise unusable("its body is not JSON")
    try:
        token, expires_at = read_token_answer(text)
    except ValueError as exc:
        raise unusable(f"its body is no token: {exc}") from None
    register(token)  # scrubbed from anything logged after this
    return token, int(expires_at) if expires_at is not None else None
