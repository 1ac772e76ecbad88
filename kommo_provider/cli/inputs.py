"""Bytes a command reads from a file or from stdin (``-``): bodies and secrets, exactly as stored."""

from __future__ import annotations

import sys

from ..exceptions import CliError, UsageError


def read_stdin_bytes() -> bytes:
    """All of stdin as bytes (its binary buffer when there is one, so no newline is translated)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return bytes(buffer.read())
    return sys.stdin.read().encode("utf-8")


def read_input_bytes(path: str, what: str) -> bytes:
    """The bytes of ``path`` (``-`` = stdin); a ``CliError`` naming ``what`` and the path if unreadable."""
    if path == "-":
        return read_stdin_bytes()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CliError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from exc


def check_stdin_once(secret_file: str | None, body_file: str | None, *, body_default_stdin: bool) -> None:
    """Refuse to read both the secret and the body from stdin: one stream cannot carry both."""
    body_from_stdin = body_file == "-" or (body_file is None and body_default_stdin)
    if secret_file == "-" and body_from_stdin:
        raise UsageError(
            "stdin can carry the secret or the body, not both; give the body with --body-file FILE"
        )
