"""The lifecycle contract's rows: per served resource, valid inputs, one change of each kind, one bad
value per input, and how Kommo (the emulator) is changed behind the resource's back.

A new resource adds its :class:`Case` here; ``tests/test_lifecycle_contract.py`` runs every row over
the plugin process, and ``tests/e2e/test_lifecycle_cli.py`` over the real CLI. Values are in the
schema's names, as a program writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from constants import ACCOUNT_ID, OTHER_ACCOUNT_ID

from kommo_provider.emulator import EmulatorServer

HOOK_URL: Final = "https://bot.example.com/kommo/events"

Outputs = Mapping[str, Any]


@dataclass(frozen=True)
class Case:
    """One resource's rows of the contract."""

    token: str
    valid: dict[str, Any]
    """Inputs of a valid object."""
    update: dict[str, Any]
    """One change the resource applies in place."""
    replace: dict[str, Any]
    """One change that replaces the object."""
    bad: dict[str, tuple[Any, str]]
    """One bad value per input property, with words its failure must contain."""
    count: Callable[[EmulatorServer], int]
    """How many objects of this kind Kommo holds."""
    drift: Callable[[EmulatorServer, Outputs], str] | None = None
    """Change the object out of band and name the output that moved; ``None``: Kommo cannot read it back."""
    remove: Callable[[EmulatorServer, Outputs], object] | None = None
    """Delete the object out of band; ``None``: Kommo cannot read it back."""
    unreadable: tuple[str, ...] = ()
    """Inputs an import cannot learn from Kommo: the first ``up`` after it applies the program's values."""
    extra: dict[str, Any] = field(default_factory=dict)


def _connected(emulator: EmulatorServer) -> int:
    return len(emulator.backend.connections())


def _drift_source(emulator: EmulatorServer, outs: Outputs) -> str:
    emulator.rest.change_source(int(outs["sourceId"]), name="Renamed by hand")
    return "name"


def _drift_template(emulator: EmulatorServer, outs: Outputs) -> str:
    emulator.rest.change_object("chat_templates", int(outs["templateId"]), {"content": "Rewritten by hand"})
    return "content"


def _drift_webhook(emulator: EmulatorServer, outs: Outputs) -> str:
    emulator.rest.change_webhook(int(outs["webhookId"]), disabled=True)
    return "disabled"


CASES: Final = {
    case.token: case
    for case in (
        Case(
            "kommo:index:ChatChannelConnection",
            valid={"accountId": ACCOUNT_ID},
            update={"title": "Support bot"},
            replace={"accountId": OTHER_ACCOUNT_ID},
            bad={
                "accountId": ("not-a-uuid", "UUID"),
                "title": ("", "non-empty"),
                "hookApiVersion": ("v3", "'v1' or 'v2'"),
                "isTimeWindowDisabled": ("yes", "true or false"),
                "reconnectTriggers": ("2026-12-04", "list of strings"),
            },
            count=_connected,
            unreadable=("hookApiVersion",),
        ),
        Case(
            "kommo:index:Source",
            valid={"name": "Chats", "externalId": "chats"},
            update={"name": "Chats (renamed)"},
            replace={"account": "globex"},
            bad={
                "account": ("www", "subdomain"),
                "name": ("", "non-empty"),
                "externalId": ("x" * 41, "1 to 40 characters"),
                "pipelineId": (0, "pipeline's id"),
                "default": ("yes", "true or false"),
                "originCode": ("12345", "only digits"),
                "services": ([{"type": "telegram"}], "[0].type"),
            },
            count=lambda emulator: len(emulator.rest.sources()),
            drift=_drift_source,
            remove=lambda emulator, outs: emulator.rest.remove_source(int(outs["sourceId"])),
        ),
        Case(
            "kommo:index:Webhook",
            valid={"destination": HOOK_URL, "settings": ["add_lead"]},
            update={"settings": ["add_lead", "add_message"]},
            replace={"destination": HOOK_URL + "/v2"},
            bad={
                "account": ("acme.example.org", "kommo.com"),
                "destination": ("http://bot.example.com/kommo", "https"),
                "settings": (["buy_pizza"], "unknown event code"),
                "sort": (-1, "from 0"),
            },
            count=lambda emulator: len(emulator.rest.webhooks()),
            drift=_drift_webhook,
            remove=lambda emulator, outs: emulator.rest.remove_webhook(int(outs["webhookId"])),
        ),
        Case(
            "kommo:index:ChatTemplate",
            valid={"name": "Greeting", "content": "Hello! How can we help?", "externalId": "greeting"},
            update={"content": "Hello again!"},
            replace={"type": "waba"},
            bad={
                "account": ("acme.kommo.com:443", "host only"),
                "name": ("", "non-empty"),
                "content": ("x" * 5000, "at most 4096"),
                "externalId": ("", "1 to 40"),
                "type": ("sms", "'amocrm'"),
                "buttons": ([{"type": "url", "text": "Open"}], "[0].url is required"),
                "wabaCategory": ("PROMO", "UTILITY"),
                "wabaLanguage": ("English", "language code"),
                "wabaHeader": ("x" * 61, "at most 60"),
                "wabaFooter": ("", "non-empty"),
                "wabaExamples": ({"{{name}}": 5}, "map of strings"),
            },
            count=lambda emulator: len(emulator.rest.objects("chat_templates")),
            drift=_drift_template,
            remove=lambda emulator, outs: emulator.rest.remove_object(
                "chat_templates", int(outs["templateId"])
            ),
        ),
    )
}
