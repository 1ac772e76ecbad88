"""Where each account's access token comes from, at the moment a call needs it.

A vendor's integration is installed in many accounts, each with its own OAuth token that lasts 24 hours
and that the vendor's backend refreshes (Kommo's refresh tokens are single-use: the backend must stay
their only user). So the provider never stores a token on a resource and never refreshes one itself; it
asks, per account, in this order:

1. ``accessTokens``: a map from account host to token (long-lived tokens, small fleets);
2. ``accessToken``, for the provider's default account ``accountDomain`` (one account, as in 0.3.0);
3. ``tokenCommand``: a program run without a shell, with the account's host in ``KOMMO_ACCOUNT``, that
   prints the token, or JSON ``{"accessToken": "...", "expiresAt": <unix seconds or RFC 3339>}``
   (the pattern of AWS ``credential_process`` and Kubernetes exec credentials).

A token is kept in this process until shortly before it expires (its ``expiresAt``, else its JWT
``exp``), fetched once per account however many calls wait for it, and fetched once more after Kommo
refuses it. A command's output is never logged nor shown: a failure says which account, which property,
and what went wrong (exit status, time-out, nothing printed), in one line.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from ..exceptions import PluginError
from ..tokens import expiry, read_token_answer

log = logging.getLogger("kommo_provider")

EXPIRY_MARGIN_SECONDS: Final = 60.0
"""A token this close to its expiry is fetched again rather than sent: a call may take that long."""
MAX_OUTPUT_BYTES: Final = 64 * 1024
"""More than any token: a command printing more is not printing a token."""
ACCOUNT_VARIABLE: Final = "KOMMO_ACCOUNT"

ACCESS_TOKENS: Final = "accessTokens"
ACCESS_TOKEN: Final = "accessToken"
TOKEN_COMMAND: Final = "tokenCommand"


@dataclass(frozen=True)
class Token:
    """A token and where it came from; its ``repr`` never shows it."""

    value: str = field(repr=False)
    origin: str
    """The provider property it came from (``accessTokens``, ``accessToken``, ``tokenCommand``)."""
    expires_at: float | None = None
    """Unix seconds, when known."""

    def fresh(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at - EXPIRY_MARGIN_SECONDS


class AccountTokens:
    """The tokens of every account one provider configuration serves (a :class:`~..rest.TokenSource`)."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        default_account: str | None = None,
        default_token: str | None = None,
        command: Sequence[str] | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._static = {
            host: Token(value, ACCESS_TOKENS, expiry_of(value)) for host, value in (tokens or {}).items()
        }
        if default_account and default_token and default_account not in self._static:
            self._static[default_account] = Token(default_token, ACCESS_TOKEN, expiry_of(default_token))
        self._command = tuple(command or ())
        self._timeout = timeout
        self._clock = clock
        self._fetched: dict[str, Token] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AccountTokens(accounts={sorted(self._static)!r}, command={bool(self._command)})"

    def origin(self, account: str) -> str | None:
        """Which property gives ``account``'s token, or ``None`` when none does."""
        found = self._static.get(account)
        if found is not None:
            return found.origin
        return TOKEN_COMMAND if self._command else None

    def token(self, account: str) -> str:
        return self.current(account).value

    def current(self, account: str) -> Token:
        """The account's token: a static one, or the command's, fetched once and kept until it expires."""
        static = self._static.get(account)
        if static is not None:
            return static
        if not self._command:
            raise PluginError(
                f"no access token for account {account}: add it to the kommo provider's accessTokens, "
                f"or set tokenCommand to a program that prints each account's token"
            )
        cached = self._fetched.get(account)
        if cached is not None and cached.fresh(self._clock()):
            return cached
        with self._account_lock(account):
            cached = self._fetched.get(account)  # another call may have fetched it while this one waited
            if cached is not None and cached.fresh(self._clock()):
                return cached
            fetched = self._fetched[account] = run_token_command(self._command, account, self._timeout)
            return fetched

    def refresh(self, account: str, rejected: str) -> str | None:
        """After a 401: the command's next token (once; a concurrent call may already have fetched it);
        a static token has no other."""
        if account in self._static or not self._command:
            return None
        with self._account_lock(account):
            cached = self._fetched.get(account)
            if cached is not None and cached.value != rejected and cached.fresh(self._clock()):
                return cached.value
            fetched = self._fetched[account] = run_token_command(self._command, account, self._timeout)
            log.debug("fetched a new token for %s after Kommo refused the previous one", account)
            return fetched.value

    def _account_lock(self, account: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(account, threading.Lock())


def expiry_of(token: str) -> float | None:
    """A JWT's ``exp`` as unix seconds, or ``None``."""
    found = expiry(token)
    return found.timestamp() if found is not None else None


def _failure(account: str, what: str) -> PluginError:
    return PluginError(f"tokenCommand failed for account {account}: {what} (its output is not shown)")


def run_token_command(argv: Sequence[str], account: str, timeout: float) -> Token:
    """Run the command for ``account`` and read its token; one line naming the account if it fails."""
    env = {**os.environ, ACCOUNT_VARIABLE: account}
    started = time.monotonic()
    try:
        done = subprocess.run(
            list(argv), env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise _failure(account, f"its program {argv[0][:200]!r} was not found") from None
    except PermissionError:
        raise _failure(account, f"its program {argv[0][:200]!r} is not executable") from None
    except subprocess.TimeoutExpired:
        raise _failure(account, f"it did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise _failure(account, f"it could not be started ({type(exc).__name__})") from None
    log.debug("tokenCommand for %s finished in %.0f ms", account, (time.monotonic() - started) * 1000)
    if done.returncode != 0:
        status = (
            f"killed by signal {-done.returncode}" if done.returncode < 0 else f"status {done.returncode}"
        )
        raise _failure(account, f"it exited with {status}")
    return parse_token_output(done.stdout, account)


def parse_token_output(output: bytes, account: str) -> Token:
    """The token a command printed: the token alone, or ``{"accessToken", "expiresAt"?}``."""
    if len(output) > MAX_OUTPUT_BYTES:
        raise _failure(account, f"it printed more than {MAX_OUTPUT_BYTES // 1024} KiB, which is no token")
    try:
        text = output.decode("utf-8")
    except UnicodeDecodeError:
        raise _failure(account, "it printed something that is not UTF-8 text") from None
    if not text.strip():
        raise _failure(account, "it printed nothing")
    try:
        value, expires_at = read_token_answer(text)
    except ValueError as exc:
        raise _failure(account, f"what it printed is no token: {exc}") from None
    return Token(value, TOKEN_COMMAND, expires_at)
