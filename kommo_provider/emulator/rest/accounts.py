"""Accounts, their pipelines and the tokens that open them: who a REST request is, and what it sees.

No HTTP here. :class:`AccountDirectory` is the part of the REST backend that answers "which account
and integration does this bearer token stand for", and holds what each account is configured with.
Accounts are indexed by id, subdomain and amojo_id, tokens by value and by account, so no request
and no added account scans the others: thousands of accounts cost what one does.
"""

from __future__ import annotations

import copy
import itertools
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Final

from kommo_provider.emulator.ids import canonical_id, is_uuid
from kommo_provider.emulator.rest.exceptions import Unauthorized
from kommo_provider.emulator.rest.models import (
    DEFAULT_INTEGRATION_ID,
    LOST_STATUS_ID,
    WON_STATUS_ID,
    Account,
    AccountSpec,
    Grant,
    Pipeline,
    Status,
    UnknownObjectError,
)
from kommo_provider.emulator.rest.tokens import mint_token, token_expiry

DEFAULT_TOKEN_LIFETIME_SECONDS: Final = 365 * 24 * 3600
"""A minted long-lived token lasts a year unless told otherwise."""

ACCESS_TOKEN_LIFETIME_SECONDS: Final = 24 * 3600
"""A rotated token lasts a day unless told otherwise, as a Kommo OAuth access token does."""

_OPEN_STATUSES: Final = (("Incoming leads", 1, "#c1c1c1", False), ("Initial contact", 0, "#99ccff", True))
_NAMESPACE: Final = uuid.UUID("9f3c2b1a-6d4e-4f80-a2b7-c5d1e0f4a963")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class AccountDirectory:
    """The accounts served and the long-lived tokens that open them, one integration per token."""

    def __init__(
        self, accounts: Iterable[AccountSpec] = (), *, now: Callable[[], datetime] = _utc_now
    ) -> None:
        """Serve ``accounts``; ``now`` is the emulator clock (token expiry, timestamps)."""
        self._lock = threading.RLock()
        self._now = now
        self._accounts: dict[int, Account] = {}
        self._by_subdomain: dict[str, int] = {}
        self._by_amojo_id: dict[str, int] = {}
        self._tokens: dict[str, Grant] = {}
        self._account_tokens: dict[int, dict[str, Grant]] = {}
        """Per account, its tokens (revoked ones too) oldest first: rotation and "newest" read it."""
        self._account_ids = itertools.count(31_000_001)
        self._user_ids = itertools.count(8_100_001)
        self._pipeline_ids = itertools.count(7_000_001)
        self._status_ids = itertools.count(60_000_001)
        for spec in accounts:
            self.add_account(spec)

    def _timestamp(self) -> int:
        return int(self._now().timestamp())

    # Accounts and tokens ------------------------------------------------------------------------

    def add_account(self, spec: AccountSpec) -> Account:
        """Serve an account; one with the same subdomain is replaced (its sources, webhooks, tokens go).

        ``ValueError`` (and nothing changed) when the subdomain is empty, there is no pipeline, the
        token is not JWT-shaped, or the id, amojo_id or token belongs to another account.
        """
        if not spec.subdomain:
            raise ValueError("subdomain must not be empty")
        if not spec.pipelines or not all(spec.pipelines):
            raise ValueError("an account needs at least one pipeline, each with a non-empty name")
        amojo_id = canonical_id(spec.amojo_id or str(uuid.uuid5(_NAMESPACE, spec.subdomain)))
        if not is_uuid(amojo_id):
            raise ValueError("amojo_id must be a UUID such as 3b5e8f2a-7c14-4d9e-a6b1-92f0c8d4e713")
        expires_at = token_expiry(spec.token) if spec.token is not None else None
        with self._lock:
            previous = self._find(spec.subdomain)
            self._check_free(spec, amojo_id, previous)
            if previous is not None:
                self._drop_account(previous.id)
                self._forget_objects_of(previous.id)
            account_id = spec.id if spec.id is not None else self._free_account_id()
            account = Account(
                id=account_id,
                name=spec.name or spec.subdomain,
                subdomain=spec.subdomain,
                amojo_id=amojo_id,
                user_id=spec.user_id if spec.user_id is not None else next(self._user_ids),
                created_at=self._timestamp(),
                pipelines=[
                    self._pipeline(account_id, name, sort, is_main=sort == 0)
                    for sort, name in enumerate(spec.pipelines)
                ],
            )
            self._accounts[account_id] = account
            self._by_subdomain[account.subdomain] = account_id
            self._by_amojo_id[account.amojo_id] = account_id
            if spec.token is not None and expires_at is not None:
                integration_id = canonical_id(spec.integration_id)
                self._keep(spec.token, Grant(account_id, integration_id, account.user_id, expires_at))
            return copy.deepcopy(account)

    def _check_free(self, spec: AccountSpec, amojo_id: str, previous: Account | None) -> None:
        """``ValueError`` if another account (not the one being replaced) holds an id or the token."""
        replaced = previous.id if previous is not None else None
        holder = self._by_amojo_id.get(amojo_id)
        if holder is not None and holder != replaced:
            raise ValueError(
                f"amojo_id {amojo_id} already belongs to account {self._accounts[holder].subdomain}"
            )
        if spec.id is not None and spec.id in self._accounts and spec.id != replaced:
            raise ValueError(
                f"account id {spec.id} already belongs to account {self._accounts[spec.id].subdomain}"
            )
        held = self._tokens.get(spec.token) if spec.token is not None else None
        if held is not None and held.account_id != replaced:
            raise ValueError("this access token already opens another account")

    def _free_account_id(self) -> int:
        while (candidate := next(self._account_ids)) in self._accounts:
            pass
        return candidate

    def _pipeline(self, account_id: int, name: str, sort: int, *, is_main: bool) -> Pipeline:
        pipeline_id = next(self._pipeline_ids)
        statuses = [
            Status(next(self._status_ids), title, 10 * n, kind, color, editable, pipeline_id, account_id)
            for n, (title, kind, color, editable) in enumerate(_OPEN_STATUSES, start=1)
        ]
        statuses += [
            Status(WON_STATUS_ID, "Closed - won", 10000, 0, "#CCFF66", False, pipeline_id, account_id),
            Status(LOST_STATUS_ID, "Closed - lost", 11000, 0, "#D5D8DB", False, pipeline_id, account_id),
        ]
        return Pipeline(pipeline_id, name, sort + 1, is_main, account_id, statuses)

    def _drop_account(self, account_id: int) -> None:
        account = self._accounts.pop(account_id)
        del self._by_subdomain[account.subdomain]
        del self._by_amojo_id[account.amojo_id]
        for token in self._account_tokens.pop(account_id, {}):
            del self._tokens[token]

    def _keep(self, token: str, grant: Grant) -> None:
        """Register a token as its account's newest (one given again moves to the end)."""
        self._tokens[token] = grant
        held = self._account_tokens.setdefault(grant.account_id, {})
        held.pop(token, None)
        held[token] = grant

    def _forget_objects_of(self, account_id: int) -> None:
        """Drop what belongs to a replaced account (the sources and webhooks of a subclass)."""

    def add_token(self, subdomain: str, token: str, *, integration_id: str = DEFAULT_INTEGRATION_ID) -> Grant:
        """Let ``token`` (JWT-shaped, with an ``exp``) open the account as ``integration_id``.

        ``ValueError`` (never quoting the token) when it is not JWT-shaped or opens another account.
        """
        expires_at = token_expiry(token)
        with self._lock:
            account = self._require(subdomain)
            grant = Grant(account.id, canonical_id(integration_id), account.user_id, expires_at)
            held = self._tokens.get(token)
            if held is not None and held.account_id != account.id:
                raise ValueError("this access token already opens another account")
            self._keep(token, grant)
            return grant

    def mint_token(
        self,
        subdomain: str,
        *,
        integration_id: str = DEFAULT_INTEGRATION_ID,
        lifetime_seconds: int = DEFAULT_TOKEN_LIFETIME_SECONDS,
    ) -> str:
        """Issue a new long-lived token for the account, as an admin does in Kommo's UI; returns it.

        A negative ``lifetime_seconds`` gives an already expired token (for 401 tests).
        """
        with self._lock:
            account = self._require(subdomain)
            issued_at = self._timestamp()
            token = mint_token(
                account_id=account.id,
                integration_id=canonical_id(integration_id),
                user_id=account.user_id,
                issued_at=issued_at,
                expires_at=issued_at + lifetime_seconds,
                token_id=uuid.uuid4().hex,
            )
            self.add_token(subdomain, token, integration_id=integration_id)
            return token

    def rotate_token(
        self,
        subdomain: str,
        *,
        integration_id: str = DEFAULT_INTEGRATION_ID,
        lifetime_seconds: int = ACCESS_TOKEN_LIFETIME_SECONDS,
    ) -> str:
        """Issue a new token for the account and integration and revoke every older one of that pair.

        What a vendor's backend gets from an OAuth refresh: the old access token stops working at
        once (401 saying it was revoked). Tokens of other integrations of the account stay valid.
        """
        with self._lock:
            token = self.mint_token(
                subdomain, integration_id=integration_id, lifetime_seconds=lifetime_seconds
            )
            grant = self._tokens[token]
            held = self._account_tokens[grant.account_id]
            for other, older in list(held.items()):
                if other != token and older.integration_id == grant.integration_id and not older.revoked:
                    self._tokens[other] = held[other] = replace(older, revoked=True)
            return token

    def newest_token(self, subdomain: str, integration_id: str | None = None) -> tuple[str, Grant]:
        """The account's newest token that is neither revoked nor expired (of one integration if named).

        ``UnknownObjectError`` when the account is unknown or has no such token.
        """
        wanted = canonical_id(integration_id) if integration_id is not None else None
        with self._lock:
            account = self._require(subdomain)
            now = self._timestamp()
            for token, grant in reversed(self._account_tokens.get(account.id, {}).items()):
                live = not grant.revoked and now < grant.expires_at
                if live and wanted in (None, grant.integration_id):
                    return token, grant
        of = f" of integration {wanted}" if wanted is not None else ""
        raise UnknownObjectError(f"account {subdomain!r} has no unrevoked, unexpired token{of}")

    def accounts(self) -> list[Account]:
        """Copies of the accounts served, in the order they were added."""
        with self._lock:
            return copy.deepcopy(list(self._accounts.values()))

    def account(self, subdomain: str) -> Account:
        """A copy of one account; ``UnknownObjectError`` if none has this subdomain."""
        with self._lock:
            return copy.deepcopy(self._require(subdomain))

    def integrations(self, subdomain: str) -> list[str]:
        """The integration ids that hold an unrevoked token for the account (never the tokens)."""
        with self._lock:
            held = self._account_tokens.get(self._require(subdomain).id, {}).values()
            return list(dict.fromkeys(g.integration_id for g in held if not g.revoked))

    def _find(self, subdomain: str) -> Account | None:
        account_id = self._by_subdomain.get(subdomain)
        return self._accounts[account_id] if account_id is not None else None

    def _require(self, subdomain: str) -> Account:
        account = self._find(subdomain)
        if account is None:
            raise UnknownObjectError(f"no account with subdomain {subdomain!r}")
        return account

    def authenticate(self, token: str | None) -> Grant:
        """The grant of a bearer token; ``Unauthorized`` if it is missing, unknown, revoked or expired."""
        if not token:
            raise Unauthorized("Authorization header with a Bearer access token is required")
        with self._lock:
            grant = self._tokens.get(token)
        if grant is None:
            raise Unauthorized("The access token is not valid for any account")
        if grant.revoked:
            raise Unauthorized("The access token was revoked: a newer one was issued; use the newest token")
        if self._timestamp() >= grant.expires_at:
            raise Unauthorized(f"The access token expired at {grant.expires_at} (Unix time); issue a new one")
        return grant

    def grant_for(self, token: str | None) -> Grant | None:
        """The grant of a token if it is known (expired or not), without raising."""
        with self._lock:
            return self._tokens.get(token) if token else None
