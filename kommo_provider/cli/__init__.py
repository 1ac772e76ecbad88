"""The ``kommo-chat`` command line: sign requests, connect/disconnect, verify webhooks, tokens, the emulator.

::

    kommo-chat [-v] sign --method M --path P [--body-file F | --body S] [--date D] [--curl URL]
    kommo-chat [-v] connect --channel-id C --account-id A [--title T] [--hook-api-version v1|v2]
                            [--time-window-disabled] [--base-url U | --region R] [--json] ...
    kommo-chat [-v] disconnect --channel-id C --account-id A [--base-url U | --region R] ...
    kommo-chat [-v] verify-webhook --signature X [--body-file F]
    KOMMO_ACCOUNT=HOST kommo-chat [-v] token --url URL [--key-file F]
    kommo-chat [-v] emulator [--port N] [--demo] [--channel ID[:@FILE]] ...

Each command is a module of this package with ``add_arguments(parser)`` and ``run(args) -> int``;
this one assembles the parser, runs the command and turns its failures into exit statuses. Shared
options are in ``options.py``, argument types in ``argtypes.py``, and the one rule for loading a
secret in ``secrets.py``: the channel secret comes from ``KOMMO_CHANNEL_SECRET`` or ``--secret-file
PATH`` (``-`` reads stdin), never from a command-line argument, and is never printed; so does the token
service's key (``KOMMO_TOKEN_SERVICE_KEY`` or ``--key-file``).

Exit status: 0 success, 1 API/configuration error (one ``kommo-chat: error: ...`` line on stderr),
2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Final, Protocol

from ..exceptions import CliError, KommoError
from . import connect, disconnect, emulator, sign, token, verify_webhook
from .secrets import CHANNEL_SECRET, TOKEN_SERVICE_KEY, SecretSource, redact

__all__ = ["COMMANDS", "LOGGER_NAME", "PROG", "SECRET_ENV", "Command", "build_parser", "main"]

PROG: Final = "kommo-chat"
SECRET_ENV: Final = CHANNEL_SECRET.env_var
LOGGER_NAME: Final = "kommo_provider"

_FORBIDDEN_SECRET_FLAGS: Final[dict[str, SecretSource]] = {
    "--secret": CHANNEL_SECRET,
    "--channel-secret": CHANNEL_SECRET,
    "--key": TOKEN_SERVICE_KEY,
    "--service-key": TOKEN_SERVICE_KEY,
}
"""Flags that would put a secret into argv: refused, saying where the secret goes, without echoing the value
(argparse would print an unknown flag's value as an unrecognized argument)."""


class Command(Protocol):
    """A ``kommo-chat`` command: a module with these names (as pip's commands and httpie's cli)."""

    @property
    def NAME(self) -> str: ...

    @property
    def HELP(self) -> str: ...

    @property
    def DESCRIPTION(self) -> str: ...

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


COMMANDS: Final[tuple[Command, ...]] = (sign, connect, disconnect, verify_webhook, token, emulator)


class _RedactingFilter(logging.Filter):
    """Replaces any loaded secret in a log record with ``<redacted>`` (defence in depth)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


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
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_arguments(
            subparsers.add_parser(
                command.NAME, help=command.HELP, description=command.DESCRIPTION, allow_abbrev=False
            )
        )
    return parser


def _forbidden_secret_flag(argv: Sequence[str]) -> str | None:
    """A ``--secret``-style flag among the arguments (before ``--``), if any."""
    for argument in argv:
        if argument == "--":
            break
        name = argument.partition("=")[0]
        if name in _FORBIDDEN_SECRET_FLAGS:
            return name
    return None


def _error(message: str) -> None:
    print(f"{PROG}: error: {redact(message)}", file=sys.stderr)


@contextmanager
def _verbose_logging(enabled: bool) -> Iterator[None]:
    """With ``-v``, the package's log records go to stderr, every loaded secret redacted."""
    if not enabled:
        yield
        return
    logger = logging.getLogger(LOGGER_NAME)
    previous_level = logger.level
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    stream.addFilter(_RedactingFilter())
    logger.addHandler(stream)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(stream)
        logger.setLevel(previous_level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kommo-chat`` with ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    flag = _forbidden_secret_flag(arguments)
    if flag is not None:
        source = _FORBIDDEN_SECRET_FLAGS[flag]
        _error(
            f"{flag} is not accepted: command-line arguments are visible to other users; "
            f"set the {source.env_var} environment variable or use {source.file_hint}"
        )
        return 2
    try:
        args = build_parser().parse_args(arguments)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return _exit_code(exc)

    command = {c.NAME: c for c in COMMANDS}[args.command]
    with _verbose_logging(bool(args.verbose)):
        try:
            return command.run(args)
        except CliError as exc:
            _error(str(exc))
            return exc.code
        except KommoError as exc:
            _error(str(exc))
            return 1
        except KeyboardInterrupt:
            _error("interrupted")
            return 130


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1
