"""``kommo-chat disconnect``: disconnect a Kommo account from a chat channel."""

from __future__ import annotations

import argparse
from typing import Final

from .options import add_connection_ids, add_host_options, client_from_args, credentials_from_args

NAME: Final = "disconnect"
HELP: Final = "disconnect an account from the channel"
DESCRIPTION: Final = "Disconnect a Kommo account from a chat channel."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_ids(parser)
    add_host_options(parser)


def run(args: argparse.Namespace) -> int:
    client = client_from_args(args)
    credentials = credentials_from_args(args)
    client.disconnect(credentials, args.account_id)
    print(f"disconnected {args.account_id} from {args.channel_id}")
    return 0
