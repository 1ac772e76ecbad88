"""What a webhook subscription of an account is (REST API v4 ``/api/v4/webhooks``): its fields and calls.

Kommo posts the account's events (a lead added, a message received...) to the destination. The
destination is the subscription's natural key: Kommo has no call by id and no PATCH, so an update posts
the destination again (which replaces its events), a delete names the destination, and the resource's
id is the destination. Kommo disables a hook whose destination keeps failing; refresh shows that, and
the next ``up`` posts it again, which enables it. (Not to be confused with the chat webhooks Kommo
signs with the channel secret: :mod:`kommo_provider.webhooks` verifies those.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from .hosts import is_loopback_host
from .model import GOT, Change, Field, Kind, Model

if TYPE_CHECKING:  # the client pulls in requests: imported where a call is made
    from .rest import RestApiClient

EVENT_CODES: Final = (
    *(
        f"{verb}_{entity}"
        for entity in ("lead", "contact", "company")
        for verb in ("add", "update", "delete", "restore", "responsible", "note")
    ),
    "status_lead",
    *(f"{verb}_task" for verb in ("add", "update", "delete", "responsible")),
    "add_talk",
    "update_talk",
    "add_message",
    "add_outgoing_message",
    "add_chat_template_review",
)
"""The event codes Kommo's documentation and its public clients agree on."""
MAX_DESTINATION: Final = 2000


def destination_problem(value: str) -> str | None:
    """An https URL Kommo can post to; plain http only to loopback (the emulator, a local bot)."""
    if len(value) > MAX_DESTINATION:
        return f"must be a URL of at most {MAX_DESTINATION} characters, got {len(value)} characters"
    if value != value.strip() or any(char.isspace() or not char.isprintable() for char in value):
        return f"must be a URL without whitespace or control characters, got {GOT}"
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return f"must be a URL such as 'https://bot.example.com/kommo/events', got {GOT}"
    if parts.scheme not in ("http", "https") or not host:
        return f"must be an https URL such as 'https://bot.example.com/kommo/events', got {GOT}"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials (user:password@): Kommo would post them with every event"
    if parts.scheme == "http" and not is_loopback_host(host):
        return f"must use https (plain http is accepted only for 127.0.0.1/localhost), got {GOT}"
    return None


def settings_problem(value: list[Any]) -> str | None:
    if not value:
        return "must name at least one event, such as ['add_message']"
    unknown = [code for code in value if code not in EVENT_CODES]
    if unknown:
        return f"has an unknown event code {unknown[0]!r}; Kommo's codes are {', '.join(EVENT_CODES)}"[:300]
    if len(set(value)) != len(value):
        return "names an event twice"
    return None


def sort_problem(value: float) -> str | None:
    return None if 0 <= value <= 1_000_000 else f"must be a whole number from 0 to 1000000, got {GOT}"


WEBHOOK: Final = Model(
    "kommo:index:Webhook",
    "A webhook subscription of the account (REST API v4 `/api/v4/webhooks`): Kommo posts the events in "
    "`settings` to `destination`. Only an account administrator's token may manage webhooks, and Kommo "
    "offers them on its Advanced and Enterprise plans.\n\n"
    "Kommo disables a hook whose destination keeps failing (about 100 bad answers in 2 hours): `refresh` "
    "shows `disabled`, and the next `up` posts the hook again, which enables it.\n\n"
    "## Import\n\nA webhook is imported by its destination, its natural key in Kommo:\n\n"
    "```sh\n$ pulumi import kommo:index:Webhook events https://bot.example.com/kommo/events\n```",
    (
        Field(
            "destination",
            Kind.STRING,
            "The URL Kommo posts the events to: https (plain http only to 127.0.0.1/localhost). It is the "
            "webhook's id; changing it replaces the webhook.",
            required=True,
            change=Change.REPLACE,
            check=destination_problem,
            identity=True,
            stable=True,
            api=True,
        ),
        Field(
            "settings",
            Kind.STRING_LIST,
            "The event codes to post, such as `add_message`, `add_lead`, `status_lead`.",
            required=True,
            check=settings_problem,
            api=True,
        ),
        Field(
            "sort",
            Kind.INTEGER,
            "The hook's order among the account's hooks. Left out: keep what Kommo has.",
            change=Change.KEEP,
            check=sort_problem,
            api=True,
        ),
        Field(
            "disabled",
            Kind.BOOLEAN,
            "Whether Kommo disabled the hook after its destination kept failing; the next `up` enables it.",
            output_only=True,
        ),
        Field(
            "webhook_id",
            Kind.INTEGER,
            "Kommo's numeric id of the webhook.",
            change=Change.NONE,
            output_only=True,
        ),
    ),
    id_field="destination",
)


def _state(hook: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "destination": hook.get("destination"),
        "settings": list(hook.get("settings") or []),
        "sort": hook.get("sort"),
        "disabled": bool(hook.get("disabled")),
        "webhook_id": hook.get("id"),
    }


def subscribe(client: RestApiClient, props: Mapping[str, Any]) -> dict[str, Any]:
    """Post the hook (create, or update: the same destination again replaces its events and enables it)."""
    return _state(client.subscribe_webhook(props["destination"], props["settings"], props.get("sort")))


def read(client: RestApiClient, destination: str) -> dict[str, Any] | None:
    """The hook as Kommo has it now, or ``None`` when the account has none for this destination."""
    found = client.find_webhook(destination)
    return None if found is None else _state(found)


def unsubscribe(client: RestApiClient, destination: str) -> None:
    """Delete the hook; one already gone counts as deleted."""
    client.unsubscribe_webhook(destination)
