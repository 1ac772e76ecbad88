"""Drive ``kommo-chat`` in-process (``cli.main([...])`` under capsys): shared by the CLI test modules.

Every run's stdout and stderr are checked for the channel secrets used in the tests: the CLI must
never print one.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import pytest
from constants import CHANNEL_SECRET

from kommo_provider import cli

TV1_SECRET: Final = "5a44c5dff55f3c15a4cce8d7c4cc27e207c7e189"
"""The secret of published test vector 1 (kommo-chat-api.md section 5)."""
TV4_SECRET: Final = "fb50586ff7b68cd831fe0ef356345903f644c0d2"
"""The secret of published test vector 4."""
WRONG_SECRET: Final = "0123456789abcdef0123456789abcdef01234567"

SECRETS: Final = (TV1_SECRET, TV4_SECRET, WRONG_SECRET, CHANNEL_SECRET)
"""Every secret the CLI tests hand the CLI; none may ever show up in its output."""


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def assert_no_secret(*texts: str, secrets: Sequence[str] = SECRETS) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, "a channel secret was printed"


class RunFn(Protocol):
    def __call__(self, argv: Sequence[str]) -> Result: ...


def run_cli(
    capsys: pytest.CaptureFixture[str], argv: Sequence[str], secrets: Sequence[str] = SECRETS
) -> Result:
    """Call ``cli.main(argv)``; return exit code and captured output, checked to be free of ``secrets``."""
    capsys.readouterr()  # drop anything earlier
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    assert_no_secret(captured.out, captured.err, secrets=secrets)
    return Result(code, captured.out, captured.err)


def set_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
