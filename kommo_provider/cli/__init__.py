"""The ``kommo-chat`` command line: sign requests, connect/disconnect, verify webhooks, run the emulator.

::

    kommo-chat [-v] sign --method M --path P [--body-file F | --body S] [--date D] [--curl URL]
    kommo-chat [-v] connect --channel-id C --account-id A [--title T] [--hook-api-version v1|v2]
                            [--time-window-disabled] [--base-url U | --region R] [--json] ...
    kommo-chat [-v] disconnect --channel-id C --account-id A [--base-url U | --region R] ...
    kommo-chat [-v] verify-webhook --signature X [--body-file F]
    kommo-chat [-v] emulator [emulator options...]

The channel secret comes from ``KOMMO_CHANNEL_SECRET`` or ``--secret-file PATH`` (``-`` reads stdin),
never from a command-line argument: process arguments are visible to other users. It is never printed.

Exit status: 0 success, 1 API/configuration error (one ``kommo-chat: error: ...`` line on stderr),
2 usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Final, TypeVar
from urllib.parse import urlsplit

from .. import signing
from ..client import DEFAULT_CONNECT_TIMEOUT, DEFAULT_RETRIES, ChannelCredentials, ChatApiClient
from ..exceptions import ConfigurationError, KommoError
from ..hosts import KOMMO, resolve_base_url
from ..payloads import DEFAULT_HOOK_API_VERSION, HOOK_API_VERSIONS, ConnectResult
from ..settings import setting_value
from ..validation import check_uuid
from ..webhooks import verify_webhook

PROG: Final = "kommo-chat"
SECRET_ENV: Final = "KOMMO_CHANNEL_SECRET"
CLI_REGIONS: Final = ("kommo", "amocrm.ru", "amocrm.com")
LOGGER_NAME: Final = "kommo_provider"

# Flags that would put the secret into argv; refused with an explanation and without echoing the value.
_FORBIDDEN_SECRET_FLAGS: Final = ("--secret", "--channel-secret")
_TOP_LEVEL_FLAGS: Final = ("-v", "--verbose", "-h", "--help")

log = logging.getLogger(LOGGER_NAME)

Handler = Callable[[argparse.Namespace, list[str]], int]


class _CliError(Exception):
    """An expected failure: printed as one ``kommo-chat: error: ...`` line, exit with ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class _UsageError(_CliError):
    """A bad argument value found after argparse (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=2)


class _RedactingFilter(logging.Filter):
    """Replaces any known secret in a log record with ``<redacted>`` (defence in depth)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            redacted = _redact(message, self.secrets)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


_redactor = _RedactingFilter()
"""Module-wide so every loaded secret is scrubbed from --verbose output and error messages."""


def _redact(text: str, secrets: set[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


# -- argument types ----------------------------------------------------------------------------------
#
# argparse reports a type function's ValueError as "invalid <function __name__> value: ...", which
# would show users names like _curl_base_type. Every type below goes through _arg_type: it raises
# ArgumentTypeError with a message about the value, and carries a readable __name__ as well.

_T = TypeVar("_T")


def _arg_type(name: str, parse: Callable[[str], _T]) -> Callable[[str], _T]:
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


def _uuid_type(field: str) -> Callable[[str], str]:
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

    return _arg_type(field, parse)


_DATE_EXAMPLE: Final = "Thu, 29 Oct 2020 11:59:55 +0000"


def _parse_date(value: str) -> str:
    """The Date text itself, once it is known to be RFC 2822 with a zone: it is signed verbatim."""
    if value != value.strip() or not all(" " <= char <= "~" for char in value):
        raise argparse.ArgumentTypeError(
            f"must be printable ASCII without leading or trailing whitespace, got {value!r}; "
            f"expected RFC 2822 like {_DATE_EXAMPLE!r}"
        )
    try:
        signing.parse_http_date(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; expected RFC 2822 like {_DATE_EXAMPLE!r}") from exc
    return value


def _parse_timeout(value: str) -> float:
    """``--timeout``: the same range as ``kommo:readTimeout`` (settings.py holds the rule)."""
    try:
        return setting_value("readTimeout", value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parse_retries(value: str) -> int:
    """``--retries``: the same range as ``kommo:maxRetries``."""
    try:
        return int(setting_value("maxRetries", value))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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


def _parse_signature(value: str) -> str:
    if not value.strip():
        # Most likely an unset shell variable: say so rather than answer "invalid signature".
        raise argparse.ArgumentTypeError("is empty: give the webhook's X-Signature header value")
    return value


_date_type = _arg_type("RFC 2822 date", _parse_date)
_timeout = _arg_type("number of seconds", _parse_timeout)
_retries = _arg_type("whole number", _parse_retries)
_title_type = _arg_type("title", _parse_title)
_method_type = _arg_type("HTTP method", _parse_method)
_path_type = _arg_type("path", _parse_path)
_curl_base_type = _arg_type("base URL", _parse_curl_base)
_signature_type = _arg_type("signature", _parse_signature)


# -- parser ------------------------------------------------------------------------------------------


def _add_secret_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--secret-file",
        metavar="PATH",
        help=f"read the channel secret from PATH ('-' = stdin) instead of ${SECRET_ENV}",
    )


def _add_connection_ids(parser: argparse.ArgumentParser) -> None:
    """The (channel, account) pair that a connection is."""
    parser.add_argument("--channel-id", required=True, type=_uuid_type("channel_id"), metavar="UUID")
    parser.add_argument("--account-id", required=True, type=_uuid_type("account_id"), metavar="UUID")


def _add_host_options(parser: argparse.ArgumentParser) -> None:
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
        type=_timeout,
        metavar="SECONDS",
        help="read timeout per attempt (connect timeout is the smaller of this and "
        f"{DEFAULT_CONNECT_TIMEOUT:g} s)",
    )
    parser.add_argument(
        "--retries",
        type=_retries,
        metavar="N",
        help=f"retries for connection errors, 429 and 5xx (default {DEFAULT_RETRIES})",
    )
    _add_secret_file(parser)


def build_parser() -> argparse.ArgumentParser:
    """The ``kommo-chat`` argument parser (abbreviations off: ``--secret`` must never mean --secret-file)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Kommo Chat API (amojo) tool. The channel secret is read from "
        f"${SECRET_ENV} or --secret-file, never from the command line.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log requests (method, path, status) to stderr"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sign = commands.add_parser(
        "sign",
        allow_abbrev=False,
        help="print the four signing headers for a request",
        description="Print Date, Content-Type, Content-MD5 and X-Signature for one request.",
    )
    sign.add_argument("--method", required=True, type=_method_type, help="HTTP method, e.g. POST")
    sign.add_argument(
        "--path",
        required=True,
        type=_path_type,
        help="request path or full URL; the query string is not signed",
    )
    body = sign.add_mutually_exclusive_group()
    body.add_argument("--body-file", metavar="FILE", help="body bytes from FILE ('-' = stdin)")
    body.add_argument("--body", metavar="TEXT", help="body given literally (encoded as UTF-8)")
    sign.add_argument(
        "--date",
        type=_date_type,
        metavar="RFC2822",
        help="sign with this Date (used verbatim) instead of now, e.g. 'Thu, 29 Oct 2020 11:59:55 +0000'",
    )
    sign.add_argument(
        "--curl",
        type=_curl_base_type,
        metavar="BASE_URL",
        help="also print a curl command that sends the request to BASE_URL",
    )
    _add_secret_file(sign)
    sign.set_defaults(handler=_cmd_sign)

    connect = commands.add_parser(
        "connect",
        allow_abbrev=False,
        help="connect an account to the channel",
        description="Connect a Kommo account (its amojo_id) to a chat channel and print the scope_id.",
    )
    _add_connection_ids(connect)
    connect.add_argument("--title", type=_title_type, help="channel title shown in the account")
    connect.add_argument(
        "--hook-api-version",
        choices=HOOK_API_VERSIONS,
        default=DEFAULT_HOOK_API_VERSION,
        help=f"webhook format (default {DEFAULT_HOOK_API_VERSION})",
    )
    connect.add_argument(
        "--time-window-disabled", action="store_true", help="send is_time_window_disabled=true"
    )
    connect.add_argument("--json", action="store_true", help="print the result as a JSON object")
    _add_host_options(connect)
    connect.set_defaults(handler=_cmd_connect)

    disconnect = commands.add_parser(
        "disconnect",
        allow_abbrev=False,
        help="disconnect an account from the channel",
        description="Disconnect a Kommo account from a chat channel.",
    )
    _add_connection_ids(disconnect)
    _add_host_options(disconnect)
    disconnect.set_defaults(handler=_cmd_disconnect)

    verify = commands.add_parser(
        "verify-webhook",
        allow_abbrev=False,
        help="check a webhook's X-Signature",
        description="Check the X-Signature of a webhook body (HMAC-SHA1 of the raw bytes).",
    )
    verify.add_argument(
        "--signature", required=True, type=_signature_type, help="the X-Signature header value"
    )
    verify.add_argument("--body-file", metavar="FILE", help="raw body file (default: stdin)")
    _add_secret_file(verify)
    verify.set_defaults(handler=_cmd_verify_webhook)

    emulator = commands.add_parser(
        "emulator",
        add_help=False,
        help="run the local amojo emulator (options are passed through)",
        description="Run the local amojo emulator; every following argument goes to it.",
    )
    emulator.set_defaults(handler=_cmd_emulator)
    return parser


# -- input helpers -----------------------------------------------------------------------------------


def _read_stdin_bytes() -> bytes:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return bytes(buffer.read())
    return sys.stdin.read().encode("utf-8")


def _read_file_bytes(path: str, what: str) -> bytes:
    if path == "-":
        return _read_stdin_bytes()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise _CliError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from exc


def _load_secret(secret_file: str | None) -> str:
    """The channel secret from --secret-file (one trailing newline dropped) or the environment."""
    if secret_file is not None:
        raw = _read_file_bytes(secret_file, "secret file")
        try:
            secret = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _CliError(f"the secret file {secret_file!r} is not UTF-8 text") from exc
        secret = secret.removesuffix("\n").removesuffix("\r")
        source = "stdin" if secret_file == "-" else f"secret file {secret_file!r}"
    else:
        secret = os.environ.get(SECRET_ENV, "")
        source = f"${SECRET_ENV}"
    if not secret:
        where = f" ({source} is empty)" if secret_file is not None or SECRET_ENV in os.environ else ""
        raise _CliError(
            f"no channel secret{where}: set the {SECRET_ENV} environment variable or pass "
            "--secret-file PATH ('-' reads stdin); it is never accepted as a command-line argument"
        )
    if secret != secret.strip():
        # Never echo the value: it is the secret.
        raise _CliError(f"the channel secret from {source} has leading or trailing whitespace")
    _redactor.secrets.add(secret)
    log.debug("channel secret read from %s", source)
    return secret


def _check_stdin_once(secret_file: str | None, body_file: str | None, body_default_stdin: bool) -> None:
    body_from_stdin = body_file == "-" or (body_file is None and body_default_stdin)
    if secret_file == "-" and body_from_stdin:
        raise _UsageError(
            "stdin can carry the secret or the body, not both; give the body with --body-file FILE"
        )


def _client(args: argparse.Namespace) -> ChatApiClient:
    region: str | None = args.region
    base_url: str | None = args.base_url
    allow_insecure: bool = args.allow_insecure_http
    if base_url is not None and not base_url.strip():
        # An unset shell variable ("--base-url $URL") must not silently mean production Kommo.
        raise _UsageError(
            f"argument --base-url: is empty; leave --base-url out for the default ({KOMMO}) "
            "or give a region or URL"
        )
    try:
        resolved = resolve_base_url(region or base_url, allow_insecure=allow_insecure)
    except ValueError as exc:  # ConfigurationError; any other ValueError is reported the same way
        reason = exc.reason if isinstance(exc, ConfigurationError) else str(exc)
        raise _UsageError(f"argument --base-url: {reason}") from exc
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


def _path_and_query(value: str) -> str:
    """What follows the host in the request URL: the path plus the query string if there is one."""
    if value.startswith("/"):
        return value.partition("#")[0]
    parts = urlsplit(value)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _single_quote(value: str) -> str:
    """Always single-quote (shlex.quote leaves "safe" words bare); readable and shell-safe."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


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
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _CliError(
                "a binary body read from stdin cannot be put on a command line; "
                "use --body-file FILE with --curl"
            ) from exc
        if "\0" in text:
            raise _CliError(
                "a body containing NUL bytes cannot be put on a command line; "
                "use --body-file FILE with --curl"
            )
        words += ["--data-binary", shlex.quote(text)]
    return " ".join(words)


# -- commands ----------------------------------------------------------------------------------------


def _cmd_sign(args: argparse.Namespace, extras: list[str]) -> int:
    method: str = args.method
    path: str = args.path
    body_file: str | None = args.body_file
    body_text: str | None = args.body
    date: str | None = args.date  # verbatim text, already checked to be RFC 2822 with a zone
    curl_base: str | None = args.curl
    _check_stdin_once(args.secret_file, body_file, body_default_stdin=False)
    secret = _load_secret(args.secret_file)
    if body_file is not None:
        body = _read_file_bytes(body_file, "body file")
    elif body_text is not None:
        body = body_text.encode("utf-8")
    else:
        body = b""
    if date is not None:
        headers = signing.signed_headers_for_date(secret, method, path, body, date)
    else:
        headers = signing.signed_headers(secret, method, path, body, datetime.now(timezone.utc))
    lines = [f"{name}: {value}" for name, value in headers.items()]
    if curl_base is not None:
        lines.append(curl_command(curl_base, method, path, headers, body, body_file))
    print("\n".join(lines))
    return 0


def _print_connect_result(result: ConnectResult, as_json: bool) -> None:
    data = result.to_dict()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    lines = [f"scope_id: {result.scope_id}"]
    for key, value in data.items():
        if key != "scope_id":
            text = json.dumps(value) if isinstance(value, bool) else str(value)
            lines.append(f"{key}: {text}")
    print("\n".join(lines))


def _cmd_connect(args: argparse.Namespace, extras: list[str]) -> int:
    client = _client(args)
    secret = _load_secret(args.secret_file)
    channel_id: str = args.channel_id
    account_id: str = args.account_id
    window: bool = args.time_window_disabled
    result = client.connect(
        ChannelCredentials(channel_id, secret),
        account_id,
        title=args.title,
        hook_api_version=args.hook_api_version,
        is_time_window_disabled=True if window else None,
    )
    _print_connect_result(result, bool(args.json))
    return 0


def _cmd_disconnect(args: argparse.Namespace, extras: list[str]) -> int:
    client = _client(args)
    secret = _load_secret(args.secret_file)
    channel_id: str = args.channel_id
    account_id: str = args.account_id
    client.disconnect(ChannelCredentials(channel_id, secret), account_id)
    print(f"disconnected {account_id} from {channel_id}")
    return 0


def _cmd_verify_webhook(args: argparse.Namespace, extras: list[str]) -> int:
    body_file: str | None = args.body_file
    received: str = args.signature
    _check_stdin_once(args.secret_file, body_file, body_default_stdin=True)
    secret = _load_secret(args.secret_file)
    body = _read_file_bytes(body_file, "body file") if body_file is not None else _read_stdin_bytes()
    if verify_webhook(secret, body, received):
        print("valid")
        return 0
    print("invalid signature")
    return 1


def _cmd_emulator(args: argparse.Namespace, extras: list[str]) -> int:
    from .emulator import main as emulator_main  # lazy: the emulator is only needed here

    return emulator_main(extras)


# -- entry point -------------------------------------------------------------------------------------


def _forbidden_secret_flag(argv: Sequence[str]) -> str | None:
    """A ``--secret``-style flag among our own arguments (not the emulator's), if any."""
    tokens = list(argv)
    command_at = next((i for i, tok in enumerate(tokens) if tok not in _TOP_LEVEL_FLAGS), len(tokens))
    own = tokens[:command_at] if command_at < len(tokens) and tokens[command_at] == "emulator" else tokens
    for token in own:
        if token == "--":
            break
        name = token.partition("=")[0]
        if name in _FORBIDDEN_SECRET_FLAGS:
            return name
    return None


def _error(message: str) -> None:
    print(f"{PROG}: error: {_redact(message, _redactor.secrets)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kommo-chat`` with ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    flag = _forbidden_secret_flag(arguments)
    if flag is not None:
        _error(
            f"{flag} is not accepted: command-line arguments are visible to other users; "
            f"set the {SECRET_ENV} environment variable or use --secret-file PATH ('-' reads stdin)"
        )
        return 2
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(arguments)
        if extras and args.command != "emulator":
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
    except SystemExit as exc:
        return _exit_code(exc)

    handler: Handler = args.handler
    stream: logging.Handler | None = None
    logger = logging.getLogger(LOGGER_NAME)
    previous_level = logger.level
    if args.verbose:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        stream.addFilter(_redactor)
        logger.addHandler(stream)
        logger.setLevel(logging.DEBUG)
    try:
        return handler(args, extras)
    except _CliError as exc:
        _error(str(exc))
        return exc.code
    except KommoError as exc:
        _error(str(exc))
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except SystemExit as exc:  # the emulator's own argparse
        return _exit_code(exc)
    finally:
        if stream is not None:
            logger.removeHandler(stream)
            logger.setLevel(previous_level)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1
