"""``kommo-chat emulator``: run the Kommo emulator (amojo and REST API v4) on loopback until interrupted.

Numeric options have type functions (argtypes.py) with a message about the value, so a bad one is
a usage error (exit 2, one line) and never a traceback from ``bind()``. Secrets are never taken from
the command line: ``--channel ID`` reads the environment, ``--channel ID:@FILE`` a file (secrets.py);
``--account SUBDOMAIN:AMOJO_ID[:@FILE]`` reads its access token the same way.

This is the one command that needs the ``emulator`` extra (werkzeug), and only to serve: the server is
imported then, so ``kommo-chat --help`` and every other command run from a bare install, and this one
says in one line which extra to install.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

from ..emulator.demo import (
    ACCESS_TOKEN_ENV,
    CHANNEL_SECRET_ENV,
    DEMO_ACCOUNT,
    DEMO_ACCOUNTS,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    DEMO_PORT,
)
from ..emulator.extra import INSTALL_EXTRA, missing_extra
from ..emulator.faults import FAULT_KINDS, check_kinds
from ..emulator.rest.models import AccountSpec
from ..emulator.rest.tokens import token_expiry
from ..exceptions import CliError, UsageError
from . import argtypes
from .secrets import CHANNEL_SECRET, SecretSource, load_secret, register

if TYPE_CHECKING:
    from ..emulator.server import EmulatorServer

NAME: Final = "emulator"
HELP: Final = "run the local amojo emulator"
DESCRIPTION: Final = "Run an amojo (Kommo Chat API) emulator for connect/disconnect on loopback."
EPILOG: Final = (
    f"Secrets are never taken from the command line (other users can read process "
    f"arguments): --channel ID reads ${CHANNEL_SECRET_ENV}, --channel ID:@FILE reads FILE; "
    f"--account SUBDOMAIN:AMOJO_ID reads ${ACCESS_TOKEN_ENV}, --account SUBDOMAIN:AMOJO_ID:@FILE reads FILE."
)
NEEDS_EXTRA: Final = f"kommo-chat {NAME} needs the emulator extra: {INSTALL_EXTRA}"
"""What a bare install (no werkzeug) says, in one line, instead of serving."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The emulator's options; ``--verbose`` is stored as ``log_requests`` (``-v`` is kommo-chat's)."""
    parser.epilog = EPILOG
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=argtypes.port, default=DEMO_PORT, help=f"port (default {DEMO_PORT}; 0 = any free port)"
    )
    parser.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="ID[:@FILE]",
        help=f"add a channel; its secret comes from ${CHANNEL_SECRET_ENV} or from FILE (repeatable)",
    )
    parser.add_argument(
        "--channels-file", metavar="PATH", help='JSON object {"<channel_id>": "<secret>", ...}'
    )
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="SUBDOMAIN:AMOJO_ID[:@FILE]",
        help=f"serve a REST API v4 account; its long-lived token (a JWT) comes from ${ACCESS_TOKEN_ENV} "
        "or from FILE (repeatable)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help=f"add the public demo channel {DEMO_CHANNEL_ID} with its published demo secret, and the "
        f"REST accounts {' and '.join(repr(a.subdomain) for a in DEMO_ACCOUNTS)} with their published "
        "demo tokens",
    )
    _add_behaviour(parser)


def _add_behaviour(parser: argparse.ArgumentParser) -> None:
    """How the emulator behaves: where it keeps state, its rate limit, injected faults, logging."""
    parser.add_argument(
        "--state-file",
        metavar="PATH",
        help="keep connections in this file across restarts (channels and secrets are not stored)",
    )
    parser.add_argument(
        "--rate-limit",
        type=argtypes.requests_per_second,
        metavar="N",
        help="answer 429 above N requests/s per channel (amojo) and per account (REST; Kommo's is 7)",
    )
    parser.add_argument(
        "--fault-rate", type=argtypes.fraction, default=0.0, metavar="R", help="fail this fraction (0..1)"
    )
    parser.add_argument(
        "--fault-kinds",
        type=argtypes.comma_list("fault kinds", check_kinds),
        default="429,500,503,reset",
        metavar="K,K",
        help=f"faults for --fault-rate, comma-separated from: {','.join(FAULT_KINDS)}",
    )
    parser.add_argument("--fault-seed", type=argtypes.seed, metavar="S", help="seed for --fault-rate")
    parser.add_argument(
        "--disconnect-body",
        choices=("empty", "object"),
        default="empty",
        help="disconnect answers with no body (amoCRM docs) or {} (Kommo OpenAPI)",
    )
    parser.add_argument(
        "--verbose", dest="log_requests", action="store_true", help="log each request to stderr"
    )


def _channels_file(path: str) -> dict[str, str]:
    """``{channel_id: secret}`` from a JSON file; its secrets are registered for redaction."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--channels-file: cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise UsageError(f"--channels-file: {path} is not valid JSON") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in data.items()
    ):
        raise UsageError('--channels-file: expected a JSON object {"<channel_id>": "<secret>"}')
    for secret in data.values():
        register(secret)
    return data


def _channel(spec: str) -> tuple[str, str]:
    """``(channel_id, secret)`` for ``--channel ID`` (secret from the environment) or ``ID:@FILE``."""
    channel_id, sep, source = spec.partition(":")
    if not channel_id:
        raise UsageError("--channel: the channel id is empty")
    hint = f"--channel {channel_id}:@FILE"
    if sep and not (source.startswith("@") and len(source) > 1):
        # Never echo `source`: it is probably the secret itself.
        raise UsageError(
            f"--channel {channel_id}: a secret cannot be given on the command line (process "
            f"arguments are visible to other users); set ${CHANNEL_SECRET_ENV} or use {hint}"
        )
    secret_source = replace(CHANNEL_SECRET, env_var=CHANNEL_SECRET_ENV, file_hint=hint)
    try:
        return channel_id, load_secret(secret_source, source[1:] if sep else None)
    except CliError as exc:
        raise UsageError(f"--channel {channel_id}: {exc}") from exc


def _channels(args: argparse.Namespace) -> dict[str, str]:
    """Collect {channel_id: secret} from --demo, --channels-file and --channel (later ones win)."""
    channels: dict[str, str] = {}
    if args.demo:
        channels[DEMO_CHANNEL_ID] = DEMO_CHANNEL_SECRET
    if args.channels_file:
        channels.update(_channels_file(args.channels_file))
    channels.update(_channel(str(spec)) for spec in args.channel)
    return channels


def _account(spec: str) -> AccountSpec:
    """A REST account for ``--account SUBDOMAIN:AMOJO_ID`` (token from the environment) or ``...:@FILE``."""
    subdomain, _, rest = spec.partition(":")
    amojo_id, sep, source = rest.partition(":")
    if not subdomain or not amojo_id:
        raise UsageError(
            f"--account: expected SUBDOMAIN:AMOJO_ID[:@FILE], e.g. example:{DEMO_ACCOUNT.amojo_id}"
        )
    hint = f"--account {subdomain}:{amojo_id}:@FILE"
    if sep and not (source.startswith("@") and len(source) > 1):
        # Never echo `source`: it is probably the token itself.
        raise UsageError(
            f"--account {subdomain}: an access token cannot be given on the command line (process "
            f"arguments are visible to other users); set ${ACCESS_TOKEN_ENV} or use {hint}"
        )
    token_source = SecretSource("access token", ACCESS_TOKEN_ENV, hint)
    try:
        token = load_secret(token_source, source[1:] if sep else None)
        token_expiry(token)
    except (CliError, ValueError) as exc:
        raise UsageError(f"--account {subdomain}: {exc}") from exc
    return AccountSpec(subdomain, token=token, amojo_id=amojo_id)


def _server_type() -> type[EmulatorServer]:
    """The emulator's server, imported only to serve: it needs werkzeug, which a bare install lacks."""
    try:
        from ..emulator.server import EmulatorServer
    except ImportError as exc:
        if not missing_extra(exc):
            raise
        raise CliError(NEEDS_EXTRA) from None
    return EmulatorServer


def _server(args: argparse.Namespace) -> EmulatorServer:
    """The configured server, not yet listening; a ``UsageError`` for a setting it refuses."""
    server_type = _server_type()
    try:
        server = server_type(
            _channels(args),
            accounts=(list(DEMO_ACCOUNTS) if args.demo else [])
            + [_account(str(spec)) for spec in args.account],
            host=args.host,
            port=args.port,
            state_file=args.state_file,
            disconnect_body=args.disconnect_body,
            verbose=args.log_requests,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    kinds: list[str] = args.fault_kinds if args.fault_rate > 0 else []
    try:
        server.faults.set_rate(args.fault_rate, kinds, args.fault_seed)
    except ValueError as exc:
        raise UsageError(f"--fault-rate/--fault-kinds: {exc}") from exc
    server.faults.set_rate_limit(args.rate_limit)
    return server


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT/SIGTERM while inside (main thread only: elsewhere signals cannot be caught)."""
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def _on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, _on_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(args: argparse.Namespace, *, stop_event: threading.Event | None = None) -> int:
    """Serve until SIGINT/SIGTERM (or ``stop_event``, for embedding and tests); 0 on a clean stop."""
    server = _server(args)
    stop = stop_event if stop_event is not None else threading.Event()
    with _stop_on_signals(stop):
        try:
            server.start()
        except (OSError, OverflowError) as exc:
            raise CliError(f"the emulator cannot listen on {args.host}:{args.port}: {exc}") from exc
        try:
            ids = ", ".join(server.backend.channel_ids()) or "none"
            accounts = ", ".join(account.subdomain for account in server.rest.accounts())
            served = f"channels: {ids}" + (f"; accounts: {accounts}" if accounts else "")
            print(f"amojo emulator listening on {server.url} ({served})", flush=True)
            # wait() with a timeout so signal handlers get to run promptly on every platform.
            while not stop.wait(0.5):
                pass
        finally:
            server.stop()
    return 0


def main(argv: Sequence[str] | None = None, *, stop_event: threading.Event | None = None) -> int:
    """``kommo-chat emulator`` alone, for embedding and tests: usage errors exit 2 through argparse."""
    parser = argparse.ArgumentParser(prog=f"kommo-chat {NAME}", description=DESCRIPTION, allow_abbrev=False)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args, stop_event=stop_event)
    except UsageError as exc:
        parser.error(str(exc))
    except CliError as exc:
        parser.exit(exc.code, f"{parser.prog}: error: {exc}\n")
