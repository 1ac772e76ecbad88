"""``kommo-chat verify-webhook``: check a webhook's X-Signature (HMAC-SHA1 of the raw body bytes).

Exit 0 and ``valid`` for a good signature, 1 and ``invalid signature`` otherwise, so a shell script
can branch on it.
"""

from __future__ import annotations

import argparse
from typing import Final

from ..webhooks import verify_webhook
from . import argtypes
from .inputs import check_stdin_once, read_input_bytes, read_stdin_bytes
from .options import add_secret_file
from .secrets import CHANNEL_SECRET, load_secret

NAME: Final = "verify-webhook"
HELP: Final = "check a webhook's X-Signature"
DESCRIPTION: Final = "Check the X-Signature of a webhook body (HMAC-SHA1 of the raw bytes)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--signature", required=True, type=argtypes.x_signature, help="the X-Signature header value"
    )
    parser.add_argument("--body-file", metavar="FILE", help="raw body file (default: stdin)")
    add_secret_file(parser)


def run(args: argparse.Namespace) -> int:
    body_file: str | None = args.body_file
    check_stdin_once(args.secret_file, body_file, body_default_stdin=True)
    secret = load_secret(CHANNEL_SECRET, args.secret_file)
    body = read_input_bytes(body_file, "body file") if body_file is not None else read_stdin_bytes()
    if verify_webhook(secret, body, args.signature):
        print("valid")
        return 0
    print("invalid signature")
    return 1
