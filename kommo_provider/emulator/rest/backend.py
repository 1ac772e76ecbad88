"""The state of the Kommo REST API v4 emulator: accounts, and one collection per object type; no HTTP.

Every operation runs under the accounts' lock: an object names its account (and integration), and a
collection is indexed by account, so a request reads only its own account's objects. What each object
type accepts and refuses is declared in its own module (:mod:`.sources`, :mod:`.webhooks`, and the
others of :mod:`.registry`); this module only routes a call to its collection with the account and
the clock.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from kommo_provider.emulator.ids import canonical_id
from kommo_provider.emulator.rest import webhooks as webhook_rules
from kommo_provider.emulator.rest.accounts import AccountDirectory
from kommo_provider.emulator.rest.collection import Collection, T
from kommo_provider.emulator.rest.models import Account, AccountSpec, Grant, ObjectInput, Pipeline
from kommo_provider.emulator.rest.registry import OBJECT_TYPES, object_type
from kommo_provider.emulator.rest.sources import SOURCES, Source
from kommo_provider.emulator.rest.webhooks import WEBHOOKS, Webhook


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class RestBackend(AccountDirectory):
    """Holds the accounts a token can open, and per account its pipelines and its objects.

    Emulated: account info (``with=amojo_id``), pipelines (read only), sources (list, get, create,
    update, delete; owned per integration, at most 100, ``external_id`` unique per integration),
    webhooks (list, subscribe, unsubscribe by destination), every other object type of
    :mod:`.registry` as its module says, long-lived tokens with an ``exp``.

    Not emulated:

    * subdomain routing: the token alone names the account, whatever host the request went to;
    * OAuth (authorization codes, refresh tokens), scopes and user rights: a valid token can do all;
    * pagination (``page``/``limit`` are ignored) and filters other than ``filter[external_id]`` and
      ``filter[destination]``; ``with`` values other than ``amojo_id`` and ``reviews``;
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
        """Serve ``accounts``; ``now`` is the emulator clock (token expiry, object timestamps)."""
        self._collections: dict[str, Collection[Any]] = {kind.name: Collection(kind) for kind in OBJECT_TYPES}
        self._sources: Collection[Source] = self._collections[SOURCES.name]
        self._webhooks: Collection[Webhook] = self._collections[WEBHOOKS.name]
        super().__init__(accounts, now=now)

    def _forget_objects_of(self, account_id: int) -> None:
        for collection in self._collections.values():
            collection.forget_account(account_id)

    # Account and pipelines (read only) ------------------------------------------------------------

    def get_account(self, grant: Grant) -> Account:
        with self._lock:
            return copy.deepcopy(self._accounts[grant.account_id])

    def list_pipelines(self, grant: Grant) -> list[Pipeline]:
        with self._lock:
            return copy.deepcopy(self._accounts[grant.account_id].pipelines)

    # Any collection -------------------------------------------------------------------------------

    def list_objects(self, name: str, grant: Grant, filters: Mapping[str, str] | None = None) -> list[Any]:
        """What the grant's owner sees of a collection, matching every ``filter[<field>]`` given."""
        with self._lock:
            return self._collections[name].find(grant, filters)

    def get_object(self, name: str, grant: Grant, object_id: int) -> Any:
        """The object; ``None`` once its owner deleted it (Kommo answers 204); else ``NotFound``."""
        with self._lock:
            return self._collections[name].get(grant, object_id)

    def create_objects(self, name: str, grant: Grant, inputs: Sequence[ObjectInput]) -> list[Any]:
        """Create all the objects or none (``ValidationFailed`` lists what the state refuses)."""
        with self._lock:
            account = self._accounts[grant.account_id]
            return self._collections[name].create(grant, account, inputs, self._timestamp())

    def update_objects(self, name: str, grant: Grant, inputs: Sequence[ObjectInput]) -> list[Any]:
        """Change all the objects or none (``NotFound`` for one the grant's owner does not have)."""
        with self._lock:
            account = self._accounts[grant.account_id]
            return self._collections[name].update(grant, account, inputs, self._timestamp())

    def delete_objects(self, name: str, grant: Grant, object_ids: Sequence[int]) -> None:
        """Delete all the objects or none (``NotFound`` for one the grant's owner does not have)."""
        with self._lock:
            self._collections[name].delete(grant, object_ids)

    def change_object(self, name: str, object_id: int, changes: Mapping[str, Any]) -> Any:
        """Change an object outside the API, as a user in Kommo's UI (or Kommo itself) would.

        ``UnknownObjectError`` for an unknown collection or object; ``ValueError`` for a bad change.
        """
        return self._change(self._collections[object_type(name).name], object_id, changes)

    def remove_object(self, name: str, object_id: int) -> Any:
        """Delete an object outside the API (its owner then gets 204 for it, as after a delete)."""
        return self._remove(self._collections[object_type(name).name], object_id)

    def objects(
        self, name: str, subdomain: str | None = None, integration_id: str | None = None
    ) -> list[Any]:
        """Copies of a collection's objects, or one account's and/or integration's, in creation order."""
        return self._select(self._collections[object_type(name).name], subdomain, integration_id)

    def _change(self, collection: Collection[T], object_id: int, changes: Mapping[str, Any]) -> T:
        collection.check_change(changes)
        with self._lock:
            account = self._accounts[collection.require(object_id).account_id]
            return collection.change(object_id, changes, account, self._timestamp())

    def _remove(self, collection: Collection[T], object_id: int) -> T:
        with self._lock:
            return copy.deepcopy(collection.remove(object_id))

    def _select(
        self, collection: Collection[T], subdomain: str | None, integration_id: str | None
    ) -> list[T]:
        with self._lock:
            account_id = self._require(subdomain).id if subdomain is not None else None
            wanted = canonical_id(integration_id) if integration_id is not None else None
            return collection.select(account_id, wanted)

    # Sources and webhooks: Kommo's irregular calls, and the names tests and tools use ---------------

    def list_sources(self, grant: Grant, external_id: str | None = None) -> list[Source]:
        """The integration's sources (another integration's are invisible), optionally one external_id."""
        with self._lock:
            return self._sources.find(grant, _given(external_id=external_id))

    def create_sources(self, grant: Grant, inputs: Sequence[ObjectInput]) -> list[Source]:
        """Create all the sources or none: each pipeline must exist, each external_id be new."""
        with self._lock:
            account = self._accounts[grant.account_id]
            return self._sources.create(grant, account, inputs, self._timestamp())

    def subscribe_webhook(
        self, grant: Grant, destination: str, settings: Sequence[str], sort: int | None
    ) -> Webhook:
        """Subscribe ``destination``; a known one gets the new settings (and sort) and is enabled."""
        fields = {"destination": destination, "settings": list(settings), "sort": sort}
        with self._lock:
            account = self._accounts[grant.account_id]
            return webhook_rules.subscribe(self._webhooks, grant, account, fields, self._timestamp())

    def unsubscribe_webhook(self, grant: Grant, destination: str) -> None:
        """Remove the account's webhook for ``destination``; ``NotFound`` if there is none."""
        with self._lock:
            webhook_rules.unsubscribe(self._webhooks, grant, destination)

    def act(self, name: str, grant: Grant, object_id: int, action: str) -> Any:
        """An operation an object type declares beyond CRUD, on one object the grant's owner holds."""
        kind = object_type(name)
        with self._lock:
            return kind.act(action, self._collections[kind.name], grant, object_id, self._timestamp())

    def restore_source(
        self,
        subdomain: str,
        *,
        source_id: int,
        integration_id: str,
        name: str,
        external_id: str,
        pipeline_id: int,
        default: bool | None = False,
        origin_code: str | None = None,
        services: Sequence[Mapping[str, Any]] = (),
    ) -> Source:
        """Put a source back with its own id, as Kommo would still hold it; no request is logged."""
        with self._lock:
            account = self._require(subdomain)
            owner = canonical_id(integration_id)
            if all(p.id != pipeline_id for p in account.pipelines):
                raise ValueError(f"pipeline {pipeline_id} is not a pipeline of account {subdomain}")
            if any(s.external_id == external_id for s in self._sources.select(account.id, owner)):
                raise ValueError(f"the integration already has a source with external_id {external_id!r}")
            kept = copy.deepcopy([dict(service) for service in services])
            source = Source(
                source_id, account.id, owner, name, external_id, pipeline_id, default, origin_code, kept
            )
            self._sources.restore(source)
            return copy.deepcopy(source)

    def restore_webhook(
        self,
        subdomain: str,
        *,
        webhook_id: int,
        destination: str,
        settings: Sequence[str],
        sort: int = 1,
        disabled: bool = False,
        created_at: int | None = None,
        updated_at: int | None = None,
        created_by: int | None = None,
    ) -> Webhook:
        """Put a webhook back with its own id (and timestamps); no request is logged."""
        with self._lock:
            account = self._require(subdomain)
            if any(w.destination == destination for w in self._webhooks.select(account.id)):
                raise ValueError(f"account {subdomain} already has a webhook for this destination")
            now = self._timestamp()
            created = now if created_at is None else created_at
            updated = now if updated_at is None else updated_at
            by = account.user_id if created_by is None else created_by
            webhook = Webhook(
                webhook_id, account.id, destination, list(settings), sort, disabled, created, updated, by
            )
            self._webhooks.restore(webhook)
            return copy.deepcopy(webhook)

    def change_source(
        self, source_id: int, *, name: str | None = None, pipeline_id: int | None = None
    ) -> Source:
        """Rename a source or move it to another pipeline of its account, outside the API."""
        return self._change(self._sources, source_id, _given(name=name, pipeline_id=pipeline_id))

    def remove_source(self, source_id: int) -> Source:
        """Delete a source outside the API (its integration then gets 204 for it, as after a delete)."""
        return self._remove(self._sources, source_id)

    def change_webhook(
        self,
        webhook_id: int,
        *,
        disabled: bool | None = None,
        settings: Sequence[str] | None = None,
        sort: int | None = None,
    ) -> Webhook:
        """Disable (as Kommo does after failed deliveries) or edit a webhook outside the API."""
        listed = list(settings) if settings is not None else None
        return self._change(self._webhooks, webhook_id, _given(disabled=disabled, settings=listed, sort=sort))

    def remove_webhook(self, webhook_id: int) -> Webhook:
        """Delete a webhook outside the API."""
        return self._remove(self._webhooks, webhook_id)

    def sources(self, subdomain: str | None = None, integration_id: str | None = None) -> list[Source]:
        """Copies of all sources, or those of one account and/or integration, in creation order."""
        return self._select(self._sources, subdomain, integration_id)

    def webhooks(self, subdomain: str | None = None) -> list[Webhook]:
        """Copies of all webhooks, or those of one account, in creation order."""
        return self._select(self._webhooks, subdomain, None)

    # Reading and resetting ----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Accounts (with pipelines and integration ids) and every collection's objects; never a token.

        Each object shows its API fields, its ``account_id`` and, when an integration owns it, its
        ``integration_id``.
        """
        with self._lock:
            accounts = []
            for account in self._accounts.values():
                entry = account.to_dict()
                entry["integrations"] = self.integrations(account.subdomain)
                accounts.append(entry)
            dump: dict[str, Any] = {"accounts": accounts}
            for name, collection in self._collections.items():
                kind = collection.kind
                shown = [
                    kind.to_dict(obj, kind.with_values) | _owner_fields(obj) for obj in collection.select()
                ]
                dump[name] = shown
            return dump

    def reset(self) -> None:
        """Forget every collection's objects; keep the accounts, their pipelines and tokens."""
        with self._lock:
            for collection in self._collections.values():
                collection.clear()


def _given(**values: Any) -> dict[str, Any]:
    """The keyword arguments that were given (not ``None``)."""
    return {key: value for key, value in values.items() if value is not None}


def _owner_fields(obj: Any) -> dict[str, Any]:
    owner = {"account_id": obj.account_id}
    if hasattr(obj, "integration_id"):
        owner["integration_id"] = obj.integration_id
    return owner
