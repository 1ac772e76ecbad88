"""``kommo-chat connect``: connect a Kommo account to a chat channel and print the answer."""

from __future__ import annotations

import argparse
import json
from typing import Final

from ..payloads import DEFAULT_HOOK_API_VERSION, HOOK_API_VERSIONS, ConnectResult
from . import argtypes
from .options import add_connection_ids, add_host_options, client_from_args, credentials_from_args

NAME: Final = "connect"
HELP: Final = "connect an account to the channel"
DESCRIPTION: Final = "Connect a Kommo account (its amojo_id) to a chat channel and print the scope_id."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_ids(parser)
    parser.add_argument("--title", type=argtypes.title, help="channel title shown in the account")
    parser.add_argument(
        "--hook-api-version",
        choices=HOOK_API_VERSIONS,
        default=DEFAULT_HOOK_API_VERSION,
        help=f"webhook format (default {DEFAULT_HOOK_API_VERSION})",
    )
    parser.add_argument(
        "--time-window-disabled", action="store_true", help="send is_time_window_disabled=true"
    )
    parser.add_argument("--json", action="store_true", help="print the result as a JSON object")
    add_host_options(parser)


def run(args: argparse.Namespace) -> int:
    client = client_from_args(args)
    credentials = credentials_from_args(args)
    window: bool = args.time_window_disabled
    result = client.connect(
        credentials,
        args.account_id,
        title=args.title,
        hook_api_version=args.hook_api_version,
        is_time_window_disabled=True if window else None,
    )
    _print_result(result, as_json=bool(args.json))
    return 0


def _print_result(result: ConnectResult, *, as_json: bool) -> None:
    """The scope_id first (what a script wants), then the other fields; or one JSON object."""
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
