"""``kommo:index:Webhook``, a webhook subscription of an account (REST API v4 ``/api/v4/webhooks``).

Kommo posts the account's events (a lead added, a message received...) to the destination. Kommo has
no call by id and no PATCH: a create or an update posts the destination again (which replaces its
events), and a delete names the destination. The resource's id is ``<account>/<Kommo's webhook id>``,
not the destination: a destination often carries a key in its query string, a program may mark it
secret, and an id is never a secret. Refresh lists the account's hooks and finds this one by its id
(or, should Kommo have given it a new id, by the destination in state). Kommo disables a hook whose
destination keeps failing; refresh shows that, and the next ``up`` posts it again, which enables it.
Posting a destination that already has a hook would quietly take that hook over, so a create looks it
up first and refuses, saying how to adopt it. (Not to be confused with the chat webhooks Kommo signs
with the channel secret: :mod:`kommo_provider.webhooks` verifies those.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import urlsplit

from ..exceptions import ApiError, PluginError
from ..hosts import is_loopback_host
from ..model import GOT, Change, Field, Kind, Model, Problem, render
from .base import Context, Found
from .rest_object import ACCOUNT, Endpoint, RestObject, object_id, split_id

if TYPE_CHECKING:  # the client pulls in requests: imported where a call is made
    from ..rest import RestApiClient

# The emulator keeps its own copy of the event codes (kommo_provider/emulator/rest/validation.py): it is
# Kommo, and does not read the provider's rules.
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
        port = parts.port
    except ValueError:
        return f"must be a URL such as 'https://bot.example.com/kommo/events', got {GOT}"
    if parts.scheme not in ("http", "https") or not host:
        return f"must be an https URL such as 'https://bot.example.com/kommo/events', got {GOT}"
    if port == 0:
        return f"must name a port from 1 to 65535, or none, got {GOT}"
    if parts.fragment or value.endswith("#"):
        return f"must not end in a #fragment (Kommo would post to the URL without it), got {GOT}"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials (user:password@): Kommo would post them with every event"
    if parts.scheme == "http" and not is_loopback_host(host):
        return f"must use https (plain http is accepted only for 127.0.0.1/localhost), got {GOT}"
    return None


def settings_problem(value: list[Any]) -> str | Problem | None:
    if not value:
        return "must name at least one event, such as ['add_message']"
    unknown = [code for code in value if code not in EVENT_CODES]
    if unknown:
        return Problem(
            f"has an unknown event code {GOT}; Kommo's codes are {', '.join(EVENT_CODES)}"[:300], unknown[0]
        )
    if len(set(value)) != len(value):
        return "names an event twice"
    return None


def event_set(value: list[str]) -> list[str]:
    """Events are a set: Kommo may answer them in any order, and the order means nothing."""
    return sorted(set(value))


def sort_problem(value: float) -> str | None:
    return None if 0 <= value <= 1_000_000 else f"must be a whole number from 0 to 1000000, got {GOT}"


WEBHOOK: Final = Model(
    "kommo:index:Webhook",
    "A webhook subscription of the account (REST API v4 `/api/v4/webhooks`): Kommo posts the events in "
    "`settings` to `destination`. Only an account administrator's token may manage webhooks, and Kommo "
    "offers them on its Advanced and Enterprise plans.\n\n"
    "Kommo disables a hook whose destination keeps failing (about 100 bad answers in 2 hours): `refresh` "
    "shows `disabled`, and the next `up` posts the hook again, which enables it.\n\n"
    "## Import\n\nA webhook is imported by its account and Kommo's webhook id (or, if you prefer, its "
    "destination instead of the id):\n\n"
    "```sh\n$ pulumi import kommo:index:Webhook events example.kommo.com/3001\n```",
    (
        ACCOUNT,
        Field(
            "destination",
            Kind.STRING,
            "The URL Kommo posts the events to: https (plain http only to 127.0.0.1/localhost). Changing it "
            "replaces the webhook. It may carry a key and be given as a secret: it is kept secret in state, "
            "and the resource's id is Kommo's webhook id, not the destination.",
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
            "The event codes to post, such as `add_message`, `add_lead`, `status_lead`: a set, in any order.",
            required=True,
            check=settings_problem,
            canonical=event_set,
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
            change=Change.UPDATE,
            api=True,
        ),
        Field(
            "webhook_id",
            Kind.INTEGER,
            "Kommo's numeric id of the webhook; the resource's id is `<account>/<webhookId>`.",
            output_only=True,
            stable=True,
        ),
    ),
)


class Webhook(RestObject):
    """Create and update post the hook, delete names its destination, refresh finds it in the list."""

    model: ClassVar[Model] = WEBHOOK
    endpoint: ClassVar[Endpoint] = Endpoint("/webhooks", "webhooks", natural_key="destination", precheck=True)
    number_field: ClassVar[str] = "webhook_id"
    noun: ClassVar[str] = "webhook"

    def desired(self, ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
        wanted = super().desired(ctx, inputs)
        wanted["disabled"] = False  # a hook Kommo disabled is posted again, which enables it
        return wanted

    def body(self, desired: Mapping[str, Any]) -> dict[str, Any]:
        body = {"destination": desired["destination"], "settings": list(desired["settings"])}
        if desired.get("sort") is not None:
            body["sort"] = desired["sort"]
        return body

    def state(self, obj: Mapping[str, Any], account: str) -> dict[str, Any]:
        state = super().state(obj, account)
        state["settings"] = list(obj.get("settings") or [])
        state["disabled"] = bool(obj.get("disabled"))
        return state

    def send_create(self, client: RestApiClient, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /webhooks`` with the hook: posting a destination again only replaces its events, so it is
        repeated after a 5xx like any call that is safe to repeat."""
        return client.json_object(client.send("POST", "/webhooks", body=dict(body)), self.noun)

    def send_update(
        self, client: RestApiClient, number: int, body: Mapping[str, Any], stored: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self.send_create(client, body)

    def send_delete(self, client: RestApiClient, number: int, stored: Mapping[str, Any]) -> None:
        """``DELETE /webhooks`` with the destination, Kommo's key for it (read back if state lacks it)."""
        destination = stored.get("destination")
        if not isinstance(destination, str):
            found = self.fetch(client, number, stored)
            if found is None:
                return
            destination = found["destination"]
        client.send("DELETE", "/webhooks", body={"destination": destination})

    def fetch(self, client: RestApiClient, number: int, stored: Mapping[str, Any]) -> dict[str, Any] | None:
        """The hook with this id among the account's, else the one at the destination state records."""
        hooks = client.get_list("/webhooks", "webhooks")
        by_id = next((hook for hook in hooks if hook.get("id") == number), None)
        destination = stored.get("destination")
        return by_id or next(
            (hook for hook in hooks if destination and hook.get("destination") == destination), None
        )

    def import_(self, ctx: Context, id_: str) -> Found:
        """By ``<account>/<webhook id>``, or by the destination instead of the id (0.3.0's import id)."""
        account, rest = split_id(id_.strip())
        if not rest.startswith(("http://", "https://")):
            return super().import_(ctx, id_)
        account = account or ctx.default_account
        problem = destination_problem(rest)
        if problem or account is None:
            why = f"its destination {render(problem, rest)}" if problem else "it names no account"
            raise PluginError(
                f"cannot import Webhook: {why}; import by `<account host>/<webhook id>`, such as "
                f"example.kommo.com/3001, or `<account host>/<destination URL>`"
            )
        try:
            found = self.find(ctx.rest(account), {"destination": rest})
        except ApiError as exc:
            raise self.failed("reading", account, exc, ctx=ctx) from None
        if found is None:
            raise PluginError(f"cannot import Webhook: {account} has no webhook for that destination")
        return Found(object_id(account, found["id"]), self.state(found, account))


RESOURCE: Final = Webhook()
