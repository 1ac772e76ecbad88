"""Webhooks (``/api/v4/webhooks``) on the generic collection: keyed by destination, re-posted in place.

A webhook belongs to the account (every integration sees it); Kommo has no GET by id and no PATCH for
one: a POST to a known destination replaces its settings, a DELETE names the destination.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Final

from kommo_provider.emulator.rest.collection import Collection, ObjectType
from kommo_provider.emulator.rest.exceptions import (
    FIELD_MISSING,
    INVALID_TYPE,
    INVALID_VALUE,
    NOT_SUPPORTED_CHOICE,
    FieldError,
    NotFound,
)
from kommo_provider.emulator.rest.models import Account, Grant, ObjectInput
from kommo_provider.emulator.rest.validation import is_integer, url_problem

# A deliberate copy of kommo_provider/resources/webhook.py's EVENT_CODES: the emulator is Kommo, no import.
EVENT_CODES: Final = frozenset(
    [
        f"{verb}_{entity}"
        for verb in ("add", "update", "delete", "restore", "responsible", "note")
        for entity in ("lead", "contact", "company")
    ]
    + ["status_lead"]
    + [f"{verb}_task" for verb in ("add", "update", "delete", "responsible")]
    + ["add_talk", "update_talk", "add_message", "add_outgoing_message", "add_chat_template_review"]
)
"""The webhook event codes Kommo's lists agree on (leads, contacts, companies, tasks, talks, messages)."""


@dataclass
class Webhook:
    """A webhook subscription of an account; its destination URL is its natural key."""

    id: int
    account_id: int
    destination: str
    settings: list[str]
    sort: int
    disabled: bool
    created_at: int
    updated_at: int
    created_by: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class WebhookType(ObjectType[Webhook]):
    """Webhooks: the account's, filtered by ``destination``, subscribed and unsubscribed by it."""

    name = "webhooks"
    path = "webhooks"
    embedded = "webhooks"
    singular = "webhook"
    noun = "Webhook"
    owned_by = "account"
    filters = ("destination",)
    first_id = 3_001
    links = False
    collection_routes: ClassVar[Mapping[str, str]] = {
        "GET": "list_objects",
        "POST": "subscribe_webhook",
        "DELETE": "unsubscribe_webhook",
    }
    item_routes: ClassVar[Mapping[str, str]] = {}
    drift_keys = frozenset({"disabled", "settings", "sort"})

    def shape(
        self, payload: Mapping[str, Any], path: str, *, creating: bool
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """``destination``, ``settings`` (deduplicated, in order) and ``sort`` (``None``: keep/default)."""
        errors: list[FieldError] = []
        destination = payload.get("destination")
        problem = destination_problem(destination)
        if problem:
            errors.append(FieldError(INVALID_VALUE, path + "destination", problem))
        settings = payload.get("settings")
        codes: list[str] = []
        if not isinstance(settings, list) or not settings:
            detail = 'settings must be a non-empty array of event codes, e.g. ["add_lead"]'
            code = FIELD_MISSING if settings is None else INVALID_TYPE
            errors.append(FieldError(code, path + "settings", detail))
        else:
            for index, event in enumerate(settings):
                if isinstance(event, str) and event in EVENT_CODES:
                    codes.append(event)
                else:
                    detail = f"{event!r} is not a webhook event code; use e.g. add_lead, update_contact"
                    errors.append(FieldError(NOT_SUPPORTED_CHOICE, f"{path}settings.{index}", detail))
        sort = payload.get("sort")
        if sort is not None and not (is_integer(sort) and sort >= 0):
            errors.append(FieldError(INVALID_TYPE, path + "sort", "sort must be a non-negative integer"))
        fields = {"destination": destination, "settings": list(dict.fromkeys(codes)), "sort": sort}
        return fields, errors

    def build(
        self, object_id: int, grant: Grant, account: Account, fields: Mapping[str, Any], now: int
    ) -> Webhook:
        sort = fields.get("sort")
        return Webhook(
            id=object_id,
            account_id=account.id,
            destination=fields["destination"],
            settings=list(fields["settings"]),
            sort=1 if sort is None else sort,
            disabled=False,
            created_at=now,
            updated_at=now,
            created_by=grant.user_id,
        )

    def drift_problem(self, changes: Mapping[str, Any]) -> str | None:
        disabled, settings, sort = changes.get("disabled"), changes.get("settings"), changes.get("sort")
        if disabled is not None and not isinstance(disabled, bool):
            return "disabled must be true or false"
        if settings is not None and not (
            isinstance(settings, list) and all(code in EVENT_CODES for code in settings)
        ):
            return "settings must be an array of webhook event codes such as add_lead"
        if sort is not None and not is_integer(sort):
            return "sort must be an integer"
        return None

    def drift(self, obj: Webhook, changes: Mapping[str, Any], account: Account, now: int) -> None:
        """Disable a webhook (as Kommo does after failed deliveries) or edit its settings and sort."""
        if changes.get("disabled") is not None:
            obj.disabled = changes["disabled"]
        if changes.get("settings") is not None:
            obj.settings = list(changes["settings"])
        if changes.get("sort") is not None:
            obj.sort = changes["sort"]
        obj.updated_at = now

    def to_dict(self, obj: Webhook, wanted: frozenset[str] = frozenset()) -> dict[str, Any]:
        return obj.to_dict()


WEBHOOKS: Final = WebhookType()


def destination_problem(destination: Any) -> str | None:
    """Why ``destination`` is not an http(s) URL with a host, or ``None`` when it is one."""
    return url_problem("destination", destination)


def subscribe(
    webhooks: Collection[Webhook], grant: Grant, account: Account, fields: Mapping[str, Any], now: int
) -> Webhook:
    """Subscribe a destination; a known one gets the new settings (and sort) and is enabled again."""
    found = webhooks.matching(grant, {"destination": fields["destination"]})
    if not found:
        (created,) = webhooks.create(grant, account, [ObjectInput("0", "", fields)], now)
        return created
    webhook = found[0]
    webhook.settings = list(fields["settings"])
    webhook.sort = webhook.sort if fields["sort"] is None else fields["sort"]
    webhook.disabled = False
    webhook.updated_at = now
    return copy.deepcopy(webhook)


def unsubscribe(webhooks: Collection[Webhook], grant: Grant, destination: str) -> None:
    """Remove the account's webhook for ``destination``; ``NotFound`` if there is none."""
    found = webhooks.matching(grant, {"destination": destination})
    if not found:
        raise NotFound(f"No webhook with destination {destination!r} in this account")
    webhooks.remove(found[0].id)
