"""``kommo-chat emulator``: run the amojo emulator on loopback until interrupted.

Numeric options have type functions that raise ``ArgumentTypeError`` with a message about the value,
so a bad one is a usage error (exit 2, one line) and never a traceback from ``bind()``. Secrets are
never taken from the command line: ``--channel ID`` reads the environment, ``--channel ID:@FILE`` a file.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from ..emulator.faults import FAULT_KINDS, check_kinds
from ..emulator.server import (
    CHANNEL_SECRET_ENV,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    DEMO_PORT,
    EmulatorServer,
)


def _port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(
            f"must be a port number from 0 to 65535 (0 = any free port), got {value!r}"
        )
    return number


def _requests_per_second(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0 < number < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of requests per second, got {value!r}")
    return number


def _fraction(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0 <= number <= 1:  # also false for nan
        raise argparse.ArgumentTypeError(f"must be a fraction from 0 to 1, e.g. 0.3, got {value!r}")
    return number


def _seed(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kommo-chat emulator",
        description="Run an amojo (Kommo Chat API) emulator for connect/disconnect on loopback.",
        epilog=(
            f"Secrets are never taken from the command line (other users can read process "
            f"arguments): --channel ID reads ${CHANNEL_SECRET_ENV}, --channel ID:@FILE reads FILE."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=DEMO_PORT, help=f"port (default {DEMO_PORT}; 0 = any free port)"
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
        "--demo",
        action="store_true",
        help=f"add the public demo channel {DEMO_CHANNEL_ID} with its published demo secret",
    )
    parser.add_argument(
        "--state-file",
        metavar="PATH",
        help="keep connections in this file across restarts (channels and secrets are not stored)",
    )
    parser.add_argument(
        "--rate-limit",
        type=_requests_per_second,
        metavar="N",
        help="answer 429 above N requests/s per channel",
    )
    parser.add_argument(
        "--fault-rate", type=_fraction, default=0.0, metavar="R", help="fail this fraction (0..1)"
    )
    parser.add_argument(
        "--fault-kinds",
        default="429,500,503,reset",
        metavar="K,K",
        help=f"faults for --fault-rate, comma-separated from: {','.join(FAULT_KINDS)}",
    )
    parser.add_argument("--fault-seed", type=_seed, metavar="S", help="seed for --fault-rate")
    parser.add_argument(
        "--disconnect-body",
        choices=("empty", "object"),
        default="empty",
        help="disconnect answers with no body (amoCRM docs) or {} (Kommo OpenAPI)",
    )
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    return parser


def _read_secret_file(parser: argparse.ArgumentParser, path: str, channel_id: str) -> str:
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        parser.error(f"--channel {channel_id}: cannot read secret file {path}: {exc.strerror}")
    if not secret:
        parser.error(f"--channel {channel_id}: secret file {path} is empty")
    return secret


def _channels_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """Collect {channel_id: secret} from --demo, --channels-file and --channel (later ones win)."""
    from_env = os.environ.get(CHANNEL_SECRET_ENV, "")
    channels: dict[str, str] = {}
    if args.demo:
        channels[DEMO_CHANNEL_ID] = DEMO_CHANNEL_SECRET
    if args.channels_file:
        try:
            data = json.loads(Path(args.channels_file).read_text(encoding="utf-8"))
        except OSError as exc:
            parser.error(f"--channels-file: cannot read {args.channels_file}: {exc.strerror}")
        except ValueError:
            parser.error(f"--channels-file: {args.channels_file} is not valid JSON")
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and k and isinstance(v, str) and v for k, v in data.items()
        ):
            parser.error('--channels-file: expected a JSON object {"<channel_id>": "<secret>"}')
        channels.update(data)
    for spec in args.channel:
        channel_id, sep, source = str(spec).partition(":")
        if not channel_id:
            parser.error("--channel: the channel id is empty")
        if not sep:
            if not from_env:
                parser.error(
                    f"--channel {channel_id}: set ${CHANNEL_SECRET_ENV} or use --channel {channel_id}:@FILE"
                )
            channels[channel_id] = from_env
        elif source.startswith("@") and len(source) > 1:
            channels[channel_id] = _read_secret_file(parser, source[1:], channel_id)
        else:
            # Never echo `source`: it is probably the secret itself.
            parser.error(
                f"--channel {channel_id}: a secret cannot be given on the command line (process "
                f"arguments are visible to other users); set ${CHANNEL_SECRET_ENV} or use "
                f"--channel {channel_id}:@FILE"
            )
    return channels


def main(argv: Sequence[str] | None = None, *, stop_event: threading.Event | None = None) -> int:
    """Run the emulator until SIGINT/SIGTERM (or ``stop_event``, for embedding and tests); 0 on a clean stop.

    Argument errors exit with status 2 through argparse, as usual for CLIs.
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    channels = _channels_from_args(parser, args)
    kinds = [k.strip() for k in str(args.fault_kinds).split(",") if k.strip()]
    try:
        check_kinds(kinds)
    except ValueError as exc:
        parser.error(f"--fault-kinds: {exc}")

    try:
        server = EmulatorServer(
            channels,
            host=args.host,
            port=args.port,
            state_file=args.state_file,
            disconnect_body=args.disconnect_body,
            verbose=args.verbose,
        )
    except ValueError as exc:
        parser.error(str(exc))
    try:
        server.faults.set_rate(args.fault_rate, kinds if args.fault_rate > 0 else [], args.fault_seed)
    except ValueError as exc:
        parser.error(f"--fault-rate/--fault-kinds: {exc}")
    server.faults.set_rate_limit(args.rate_limit)

    stop = stop_event if stop_event is not None else threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def _on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, _on_signal)
    try:
        try:
            server.start()
        except (OSError, OverflowError) as exc:
            print(f"amojo emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
        try:
            ids = ", ".join(server.backend.channel_ids()) or "none"
            print(f"amojo emulator listening on {server.url} (channels: {ids})", flush=True)
            # wait() with a timeout so signal handlers get to run promptly on every platform.
            while not stop.wait(0.5):
                pass
        finally:
            server.stop()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
