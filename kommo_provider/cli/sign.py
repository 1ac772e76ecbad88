"""``kommo-chat sign``: print the four signing headers for one request, and optionally a curl command.

The body is hashed exactly as read (no newline added or dropped) and ``--date`` is signed verbatim,
so the output reproduces Kommo's published examples byte for byte.
"""

from __future__ import annotations

import argparse
import shlex
from datetime import datetime, timezone
from typing import Final
from urllib.parse import urlsplit

from .. import signing
from ..exceptions import CliError
from . import argtypes
from .inputs import check_stdin_once, read_input_bytes
from .options import add_secret_file
from .secrets import CHANNEL_SECRET, load_secret

NAME: Final = "sign"
HELP: Final = "print the four signing headers for a request"
DESCRIPTION: Final = "Print Date, Content-Type, Content-MD5 and X-Signature for one request."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", required=True, type=argtypes.http_method, help="HTTP method, e.g. POST")
    parser.add_argument(
        "--path",
        required=True,
        type=argtypes.request_path,
        help="request path or full URL; the query string is not signed",
    )
    body = parser.add_mutually_exclusive_group()
    body.add_argument("--body-file", metavar="FILE", help="body bytes from FILE ('-' = stdin)")
    body.add_argument("--body", metavar="TEXT", help="body given literally (encoded as UTF-8)")
    parser.add_argument(
        "--date",
        type=argtypes.http_date,
        metavar="RFC2822",
        help=f"sign with this Date (used verbatim) instead of now, e.g. '{argtypes.DATE_EXAMPLE}'",
    )
    parser.add_argument(
        "--curl",
        type=argtypes.curl_base_url,
        metavar="BASE_URL",
        help="also print a curl command that sends the request to BASE_URL",
    )
    add_secret_file(parser)


def run(args: argparse.Namespace) -> int:
    method: str = args.method
    path: str = args.path
    body_file: str | None = args.body_file
    date: str | None = args.date  # verbatim text, already checked to be RFC 2822 with a zone
    curl_base: str | None = args.curl
    check_stdin_once(args.secret_file, body_file, body_default_stdin=False)
    secret = load_secret(CHANNEL_SECRET, args.secret_file)
    if body_file is not None:
        body = read_input_bytes(body_file, "body file")
    else:
        body = (args.body or "").encode("utf-8")
    if date is not None:
        headers = signing.signed_headers_for_date(secret, method, path, body, date)
    else:
        headers = signing.signed_headers(secret, method, path, body, datetime.now(timezone.utc))
    lines = [f"{name}: {value}" for name, value in headers.items()]
    if curl_base is not None:
        lines.append(curl_command(curl_base, method, path, headers, body, body_file))
    print("\n".join(lines))
    return 0


def _path_and_query(value: str) -> str:
    """What follows the host in the request URL: the path plus the query string if there is one."""
    if value.startswith("/"):
        return value.partition("#")[0]
    parts = urlsplit(value)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _single_quote(value: str) -> str:
    """Always single-quote (shlex.quote leaves "safe" words bare); readable and shell-safe."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _body_text(body: bytes) -> str:
    """``body`` as command-line text; a ``CliError`` if a shell word cannot carry it."""
    hint = "use --body-file FILE with --curl"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"a binary body read from stdin cannot be put on a command line; {hint}") from exc
    if "\0" in text:
        raise CliError(f"a body containing NUL bytes cannot be put on a command line; {hint}")
    return text


def curl_command(
    base_url: str, method: str, path: str, headers: dict[str, str], body: bytes, body_file: str | None
) -> str:
    """A shell command that sends exactly ``body`` with ``headers``; it carries no secret."""
    words = ["curl", "-sS", "-X", method, _single_quote(base_url.rstrip("/") + _path_and_query(path))]
    for name, value in headers.items():
        words += ["-H", _single_quote(f"{name}: {value}")]
    if body_file is not None and body_file != "-":
        words += ["--data-binary", shlex.quote("@" + body_file)]
    elif body:
        words += ["--data-binary", shlex.quote(_body_text(body))]
    return " ".join(words)
