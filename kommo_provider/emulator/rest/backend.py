"""Sources and webhooks of the Kommo REST API v4 emulator, on top of its accounts; no HTTP.

Over 300 lines on purpose: every operation crosses accounts, pipelines, integrations and objects
under one lock (a source names a pipeline of its account and belongs to the integration whose token
made it), and reading those rules in one place is what makes them checkable. Field *shapes* are
checked before (:mod:`.validation`); what depends on state (pipelines, uniqueness, ownership, the
limit) is checked here.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from kommo_provider.emulator.ids import canonical_id
from kommo_provider.emulator.rest.accounts import AccountDirectory
from kommo_provider.emulator.rest.exceptions import (
    LIMIT_EXCEEDED,
    NOT_SUPPORTED_CHOICE,
    NOT_UNIQUE,
    FieldError,
    NotFound,
    ValidationFailed,
)
from kommo_provider.emulator.rest.models import (
    MAX_SOURCES_PER_INTEGRATION,
    Account,
    AccountSpec,
    Grant,
    Pipeline,
    Source,
    SourceInput,
    UnknownObjectError,
    Webhook,
)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class RestBackend(AccountDirectory):
    """Holds the accounts a token can open, and per account its pipelines, sources and webhooks.

    Emulated: account info (``with=amojo_id``), pipelines (read only), sources (list, get, create,
    update, delete; owned per integration, at most 100, ``external_id`` unique per integration),
    webhooks (list, subscribe, unsubscribe by destination), long-lived tokens with an ``exp``.

    Not emulated:

    * subdomain routing: the token alone names the account, whatever host the request went to;
    * OAuth (authorization codes, refresh tokens), scopes and user rights: a valid token can do all;
    * pagination (``page``/``limit`` are ignored) and filters other than ``filter[external_id]`` and
      ``filter[destination]``; ``with`` values other than ``amojo_id``;
    * creating, changing or archiving pipelines and statuses; leads, contacts, chats, widgets;
    * Kommo's plan restriction on webhooks, and webhook deliveries (none is ever sent); disabling
      after failed deliveries happens only through :meth:`change_webhook`;
    * one default source per integration: ``default`` is stored as given;
    * what Kommo answers for a repeat delete, a patch of a deleted source or an unknown webhook
      destination, which is undocumented: the emulator answers 404;
    * whether a repeat subscribe re-enables a disabled webhook (undocumented): here it does;
    * persistence: REST state lives in memory (a state file keeps amojo connections only).
    """

    def __init__(
        self, accounts: Iterable[AccountSpec] = (), *, now: Callable[[], datetime] = _utc_now
    ) -> None:
        """Serve ``accounts``; ``now`` is the emulator clock (token expiry, webhook timestamps)."""
        self._sources: dict[int, Source] = {}
        self._deleted_sources: dict[int, tuple[int, str]] = {}
        self._webhooks: dict[int, Webhook] = {}
        self._source_ids = itertools.count(20_001)
        self._webhook_ids = itertools.count(3_001)
        super().__init__(accounts, now=now)

    def _forget_objects_of(self, account_id: int) -> None:
        self._sources = {i: s for i, s in self._sources.items() if s.account_id != account_id}
        self._webhooks = {i: w for i, w in self._webhooks.items() if w.account_id != account_id}

    # Account and pipelines (read only) ------------------------------------------------------------

    def get_account(self, grant: Grant) -> Account:
        with self._lock:
            return copy.deepcopy(self._accounts[grant.account_id])

    def list_pipelines(self, grant: Grant) -> list[Pipeline]:
        with self._lock:
            return copy.deepcopy(self._accounts[grant.account_id].pipelines)

    # Sources --------------------------------------------------------------------------------------

    def _owned(self, grant: Grant) -> list[Source]:
        return [
            s
            for s in self._sources.values()
            if s.account_id == grant.account_id and s.integration_id == grant.integration_id
        ]

    def _owned_source(self, grant: Grant, source_id: int) -> Source:
        source = self._sources.get(source_id)
        if source is None or (source.account_id, source.integration_id) != (
            grant.account_id,
            grant.integration_id,
        ):
            raise NotFound(f"Source {source_id} not found")
        return source

    def list_sources(self, grant: Grant, external_id: str | None = None) -> list[Source]:
        """The integration's sources (another integration's are invisible), optionally one external_id."""
        with self._lock:
            found = [s for s in self._owned(grant) if external_id is None or s.external_id == external_id]
            return copy.deepcopy(found)

    def get_source(self, grant: Grant, source_id: int) -> Source | None:
        """The source; ``None`` once the integration deleted it (Kommo answers 204); else ``NotFound``."""
        with self._lock:
            if self._deleted_sources.get(source_id) == (grant.account_id, grant.integration_id):
                return None
            return copy.deepcopy(self._owned_source(grant, source_id))

    def create_sources(self, grant: Grant, inputs: Sequence[SourceInput]) -> list[Source]:
        """Create all the sources or none: each pipeline must exist, each external_id be new."""
        with self._lock:
            account = self._accounts[grant.account_id]
            owned = self._owned(grant)
            taken = {s.external_id: s.id for s in owned}
            failures: list[tuple[str, list[FieldError]]] = []
            for item in inputs:
                errors = self._state_errors(account, item, taken)
                if len(owned) + len(inputs) > MAX_SOURCES_PER_INTEGRATION and item is inputs[-1]:
                    errors.append(
                        FieldError(
                            LIMIT_EXCEEDED,
                            item.path.rstrip("."),
                            f"An integration can have at most {MAX_SOURCES_PER_INTEGRATION} sources; "
                            f"it has {len(owned)}, this call adds {len(inputs)}",
                        )
                    )
                failures.append((item.request_id, errors))
                taken[item.fields["external_id"]] = -1
            if any(errors for _, errors in failures):
                raise ValidationFailed(failures)
            created = []
            for item in inputs:
                fields = item.fields
                source = Source(
                    id=next(self._source_ids),
                    account_id=account.id,
                    integration_id=grant.integration_id,
                    name=fields["name"],
                    external_id=fields["external_id"],
                    pipeline_id=fields.get("pipeline_id") or account.main_pipeline().id,
                    default=fields.get("default", False),
                    origin_code=fields.get("origin_code"),
                    services=copy.deepcopy(fields.get("services") or []),
                )
                self._sources[source.id] = source
                created.append(copy.deepcopy(source))
            return created

    def update_sources(self, grant: Grant, inputs: Sequence[SourceInput]) -> list[Source]:
        """Change all the sources or none (``NotFound`` for one the integration does not own)."""
        with self._lock:
            account = self._accounts[grant.account_id]
            targets = [self._owned_source(grant, int(item.source_id or 0)) for item in inputs]
            changing = {t.id for t in targets}
            taken = {s.external_id: s.id for s in self._owned(grant) if s.id not in changing}
            failures: list[tuple[str, list[FieldError]]] = []
            for item, target in zip(inputs, targets, strict=True):
                external_id = item.fields.get("external_id", target.external_id)
                failures.append((item.request_id, self._state_errors(account, item, taken)))
                taken[external_id] = target.id
            if any(errors for _, errors in failures):
                raise ValidationFailed(failures)
            for item, target in zip(inputs, targets, strict=True):
                for name, value in item.fields.items():
                    setattr(target, name, copy.deepcopy(value))
            return copy.deepcopy(targets)

    def _state_errors(
        self, account: Account, item: SourceInput, taken: Mapping[str, int]
    ) -> list[FieldError]:
        errors = []
        pipeline_id = item.fields.get("pipeline_id")
        if pipeline_id is not None and all(p.id != pipeline_id for p in account.pipelines):
            errors.append(
                FieldError(
                    NOT_SUPPORTED_CHOICE,
                    f"{item.path}pipeline_id",
                    f"Pipeline {pipeline_id} does not exist in this account; GET /api/v4/leads/pipelines",
                )
            )
        external_id = item.fields.get("external_id")
        if external_id is not None and taken.get(external_id, item.source_id) != item.source_id:
            errors.append(
                FieldError(
                    NOT_UNIQUE,
                    f"{item.path}external_id",
                    f"external_id {external_id!r} is already used by another source of this integration",
                )
            )
        return errors

    def delete_sources(self, grant: Grant, source_ids: Sequence[int]) -> None:
        """Delete all the sources or none (``NotFound`` for one the integration does not own)."""
        with self._lock:
            for source_id in source_ids:
                self._owned_source(grant, source_id)
            for source_id in source_ids:
                self._delete_source(source_id)

    def _delete_source(self, source_id: int) -> Source:
        source = self._sources.pop(source_id)
        self._deleted_sources[source_id] = (source.account_id, source.integration_id)
        return source

    # Webhooks -------------------------------------------------------------------------------------

    def list_webhooks(self, grant: Grant, destination: str | None = None) -> list[Webhook]:
        """The account's webhooks (all integrations see them), optionally one destination."""
        with self._lock:
            found = [
                w
                for w in self._webhooks.values()
                if w.account_id == grant.account_id and destination in (None, w.destination)
            ]
            return copy.deepcopy(found)

    def subscribe_webhook(
        self, grant: Grant, destination: str, settings: Sequence[str], sort: int | None
    ) -> Webhook:
        """Subscribe ``destination``; a known one gets the new settings (and sort) and is enabled."""
        with self._lock:
            now = self._timestamp()
            webhook = self._webhook_at(grant.account_id, destination)
            if webhook is None:
                webhook = Webhook(
                    id=next(self._webhook_ids),
                    account_id=grant.account_id,
                    destination=destination,
                    settings=list(settings),
                    sort=1 if sort is None else sort,
                    disabled=False,
                    created_at=now,
                    updated_at=now,
                    created_by=grant.user_id,
                )
                self._webhooks[webhook.id] = webhook
            else:
                webhook.settings = list(settings)
                webhook.sort = webhook.sort if sort is None else sort
                webhook.disabled = False
                webhook.updated_at = now
            return copy.deepcopy(webhook)

    def unsubscribe_webhook(self, grant: Grant, destination: str) -> None:
        """Remove the account's webhook for ``destination``; ``NotFound`` if there is none."""
        with self._lock:
            webhook = self._webhook_at(grant.account_id, destination)
            if webhook is None:
                raise NotFound(f"No webhook with destination {destination!r} in this account")
            del self._webhooks[webhook.id]

    def _webhook_at(self, account_id: int, destination: str) -> Webhook | None:
        key = (account_id, destination)
        return next((w for w in self._webhooks.values() if (w.account_id, w.destination) == key), None)

    # Out-of-band changes (what a user does in Kommo's UI, or Kommo itself) --------------------------

    def change_source(
        self, source_id: int, *, name: str | None = None, pipeline_id: int | None = None
    ) -> Source:
        """Rename a source or move it to another pipeline of its account, outside the API."""
        with self._lock:
            source = self._sources.get(source_id)
            if source is None:
                raise UnknownObjectError(f"no source {source_id}")
            if pipeline_id is not None:
                if all(p.id != pipeline_id for p in self._accounts[source.account_id].pipelines):
                    raise ValueError(f"pipeline {pipeline_id} is not a pipeline of the source's account")
                source.pipeline_id = pipeline_id
            if name is not None:
                if not name:
                    raise ValueError("name must not be empty")
                source.name = name
            return copy.deepcopy(source)

    def remove_source(self, source_id: int) -> Source:
        """Delete a source outside the API (its integration then gets 204 for it, as after a delete)."""
        with self._lock:
            if source_id not in self._sources:
                raise UnknownObjectError(f"no source {source_id}")
            return self._delete_source(source_id)

    def change_webhook(
        self,
        webhook_id: int,
        *,
        disabled: bool | None = None,
        settings: Sequence[str] | None = None,
        sort: int | None = None,
    ) -> Webhook:
        """Disable (as Kommo does after failed deliveries) or edit a webhook outside the API."""
        with self._lock:
            webhook = self._webhooks.get(webhook_id)
            if webhook is None:
                raise UnknownObjectError(f"no webhook {webhook_id}")
            if disabled is not None:
                webhook.disabled = disabled
            if settings is not None:
                webhook.settings = list(settings)
            if sort is not None:
                webhook.sort = sort
            webhook.updated_at = self._timestamp()
            return copy.deepcopy(webhook)

    def remove_webhook(self, webhook_id: int) -> Webhook:
        """Delete a webhook outside the API."""
        with self._lock:
            webhook = self._webhooks.pop(webhook_id, None)
            if webhook is None:
                raise UnknownObjectError(f"no webhook {webhook_id}")
            return webhook

    # Reading and resetting ----------------------------------------------------------------------

    def sources(self, subdomain: str | None = None, integration_id: str | None = None) -> list[Source]:
        """Copies of all sources, or those of one account and/or integration, in creation order."""
        with self._lock:
            account_id = self._require(subdomain).id if subdomain is not None else None
            wanted = canonical_id(integration_id) if integration_id is not None else None
            found = [
                s
                for s in self._sources.values()
                if account_id in (None, s.account_id) and wanted in (None, s.integration_id)
            ]
            return copy.deepcopy(found)

    def webhooks(self, subdomain: str | None = None) -> list[Webhook]:
        """Copies of all webhooks, or those of one account, in creation order."""
        with self._lock:
            account_id = self._require(subdomain).id if subdomain is not None else None
            return copy.deepcopy([w for w in self._webhooks.values() if account_id in (None, w.account_id)])

    def state(self) -> dict[str, Any]:
        """Accounts (with pipelines and integration ids), sources and webhooks; never a token."""
        with self._lock:
            accounts = []
            for account in self._accounts.values():
                entry = account.to_dict()
                entry["integrations"] = self.integrations(account.subdomain)
                accounts.append(entry)
            sources = [
                {**s.to_dict(), "account_id": s.account_id, "integration_id": s.integration_id}
                for s in self._sources.values()
            ]
            return {
                "accounts": accounts,
                "sources": sources,
                "webhooks": [w.to_dict() for w in self._webhooks.values()],
            }

    def reset(self) -> None:
        """Forget sources and webhooks; keep the accounts, their pipelines and tokens."""
        with self._lock:
            self._sources.clear()
            self._deleted_sources.clear()
            self._webhooks.clear()
