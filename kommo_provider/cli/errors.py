"""The expected failures of a ``kommo-chat`` command and the exit status each one means.

``main`` prints either as one ``kommo-chat: error: ...`` line; anything else is a bug and keeps its
traceback. The messages never carry a secret: they name options, fields and files only.
"""

from __future__ import annotations


class CliError(Exception):
    """A command could not do its job (unreadable file, no secret, unusable answer): exit ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class UsageError(CliError):
    """An argument value that parsed but cannot be used, found after argparse: exit 2, like argparse."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=2)
