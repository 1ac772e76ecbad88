"""Every argparse ``type=`` function of ``kommo-chat``: a value is checked where it is parsed.

A bad value then is a usage error (exit 2) naming the option, never a traceback or a request sent.
argparse reports a type function's ``ValueError`` as ``invalid <function __name__> value: ...``,
which would show users Python names; so every type here goes through :func:`arg_type`, which raises
``ArgumentTypeError`` with a message about the value and carries a readable ``__name__``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import Final, TypeVar
from urllib.parse import urlsplit

from .. import signing
from ..exceptions import ConfigurationError
from ..hosts import KOMMO, resolve_base_url
from ..settings import setting_value
from ..validation import check_uuid

_T = TypeVar("_T")

DATE_EXAMPLE: Final = "Thu, 29 Oct 2020 11:59:55 +0000"


def arg_type(name: str, parse: Callable[[str], _T]) -> Callable[[str], _T]:
    """``parse`` as an argparse ``type=``: any ValueError/TypeError becomes an ArgumentTypeError."""

    def convert(value: str) -> _T:
        try:
            return parse(value)
        except argparse.ArgumentTypeError:
            raise
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(f"invalid {name} {value!r}: {exc}") from exc

    convert.__name__ = convert.__qualname__ = name
    return convert


def uuid_of(field: str) -> Callable[[str], str]:
    """A UUID given for ``field`` (``channel_id``, ``account_id``), alone: no pasted newline or space."""

    def parse(value: str) -> str:
        if value != value.strip():
            raise argparse.ArgumentTypeError(
                f"{field} has leading or trailing whitespace (a newline pasted with it?), "
                f"got {value!r}: give the UUID alone"
            )
        failures = check_uuid(field, value)
        if failures:
            raise argparse.ArgumentTypeError(f"{field} {failures[0][1]}")
        return value

    return arg_type(field, parse)


def _parse_date(value: str) -> str:
    """The Date text itself, once it is known to be RFC 2822 with a zone: it is signed verbatim."""
    if value != value.strip() or not all(" " <= char <= "~" for char in value):
        raise argparse.ArgumentTypeError(
            f"must be printable ASCII without leading or trailing whitespace, got {value!r}; "
            f"expected RFC 2822 like {DATE_EXAMPLE!r}"
        )
    try:
        signing.parse_http_date(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; expected RFC 2822 like {DATE_EXAMPLE!r}") from exc
    return value


def _setting(key: str) -> Callable[[str], float]:
    """A number in the range of the stack setting ``kommo:<key>`` (settings.py holds the rule)."""

    def parse(value: str) -> float:
        try:
            return setting_value(key, value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _parse_title(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("must be a non-empty string")
    return value


def _parse_method(value: str) -> str:
    if not value.isascii() or not value.isalpha():
        raise argparse.ArgumentTypeError(f"must be an HTTP method such as POST or DELETE, got {value!r}")
    return value.upper()


def _parse_path(value: str) -> str:
    problem = f"must be a path starting with '/' or a full http(s) URL with a path, got {value!r}"
    if any(char.isspace() or not char.isprintable() for char in value):
        raise argparse.ArgumentTypeError(
            f"must not contain spaces or control characters (percent-encode them), got {value!r}"
        )
    if value.startswith("/"):
        return value
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{problem} ({exc})") from exc
    if parts.scheme in ("http", "https") and parts.netloc and parts.path.startswith("/"):
        return value
    raise argparse.ArgumentTypeError(problem)


def _parse_curl_base(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError(f"is empty; give a region or a base URL such as {KOMMO}")
    try:
        return resolve_base_url(value, field="--curl")
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from exc


SERVICE_URL_EXAMPLE: Final = "https://tokens.example.com/kommo"


def _parse_service_url(value: str) -> str:
    """An http(s) URL with an optional path, to which an account's host is appended as the last segment.

    Credentials and a query are refused without echoing the value: either may hold the key, which
    belongs in the environment, not in process arguments.
    """
    if not value.strip():
        raise argparse.ArgumentTypeError(
            f"is empty; give the token service's URL, such as {SERVICE_URL_EXAMPLE}"
        )
    if any(char.isspace() or not char.isprintable() for char in value):
        raise argparse.ArgumentTypeError(f"must not contain spaces or control characters, got {value!r}")
    try:
        parts = urlsplit(value)
        hostname, port = parts.hostname, parts.port
    except ValueError as exc:  # an unclosed '[', a port that is no number
        raise argparse.ArgumentTypeError(f"is not a valid URL ({exc}), got {value!r}") from exc
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(
            "must be scheme://host[:port][/path] without credentials, query or fragment (process arguments "
            "are visible to other users: give the service's key in the environment)"
        )
    if parts.scheme not in ("http", "https") or not hostname or port == 0:
        raise argparse.ArgumentTypeError(
            f"must be an http(s) URL such as {SERVICE_URL_EXAMPLE}, got {value!r}"
        )
    return value.rstrip("/")


def _parse_signature(value: str) -> str:
    if not value.strip():
        # Most likely an unset shell variable: say so rather than answer "invalid signature".
        raise argparse.ArgumentTypeError("is empty: give the webhook's X-Signature header value")
    return value


def _number(value: str, convert: Callable[[str], _T], fallback: _T) -> _T:
    """``convert(value)``, or ``fallback`` (a value the caller's range check refuses) if it is no number."""
    try:
        return convert(value)
    except ValueError:
        return fallback


def _parse_port(value: str) -> int:
    if not 0 <= _number(value, int, -1) <= 65535:
        raise argparse.ArgumentTypeError(
            f"must be a port number from 0 to 65535 (0 = any free port), got {value!r}"
        )
    return int(value)


def _parse_requests_per_second(value: str) -> float:
    number = _number(value, float, float("nan"))
    if not 0 < number < float("inf"):  # also false for nan
        raise argparse.ArgumentTypeError(f"must be a positive number of requests per second, got {value!r}")
    return number


def _parse_fraction(value: str) -> float:
    number = _number(value, float, float("nan"))
    if not 0 <= number <= 1:  # also false for nan
        raise argparse.ArgumentTypeError(f"must be a fraction from 0 to 1, e.g. 0.3, got {value!r}")
    return number


def _parse_seed(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None


def comma_list(name: str, check: Callable[[list[str]], Iterable[str]]) -> Callable[[str], list[str]]:
    """Comma-separated words (blanks dropped) that ``check`` accepts; its ValueError names the bad one."""

    def parse(value: str) -> list[str]:
        words = [word.strip() for word in value.split(",") if word.strip()]
        try:
            return list(check(words))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return arg_type(name, parse)


http_date: Final = arg_type("RFC 2822 date", _parse_date)
timeout_seconds: Final = arg_type("number of seconds", _setting("readTimeout"))
"""``--timeout``: the same range as ``kommo:readTimeout``."""
retry_count: Final = arg_type("whole number", lambda value: int(_setting("maxRetries")(value)))
"""``--retries``: the same range as ``kommo:maxRetries``."""
title: Final = arg_type("title", _parse_title)
http_method: Final = arg_type("HTTP method", _parse_method)
request_path: Final = arg_type("path", _parse_path)
curl_base_url: Final = arg_type("base URL", _parse_curl_base)
x_signature: Final = arg_type("signature", _parse_signature)
service_url: Final = arg_type("URL", _parse_service_url)
"""``token --url``: where the vendor's token service answers ``GET <URL>/<account host>``."""
port: Final = arg_type("port number", _parse_port)
requests_per_second: Final = arg_type("number of requests per second", _parse_requests_per_second)
fraction: Final = arg_type("fraction", _parse_fraction)
seed: Final = arg_type("whole number", _parse_seed)
