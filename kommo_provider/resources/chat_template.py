"""``kommo:index:ChatTemplate``, a chat template of an account (REST API v4 ``/api/v4/chats/templates``).

A template is a message a bot or an agent sends in a chat: plain (``amocrm``) or a WhatsApp Business
template (``waba``), which Meta reviews before it may be sent. Kommo lists only the templates the
calling integration made, and lets a ``waba`` template be edited only while it is a draft. The
resource's id is ``<account>/<Kommo's template id>``; ``externalId`` is required, because it is how a
template whose create answer was lost is found again (Kommo does not refuse a second template with the
same one, so a create looks it up first).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import urlsplit

from ..exceptions import PluginError
from ..model import GOT, Change, Field, Kind, Model, Problem
from ..validation import text_problem
from .base import Context
from .rest_object import ACCOUNT, Endpoint, RestObject
from .source import external_id_problem

if TYPE_CHECKING:
    from ..rest import RestApiClient

TYPES: Final = ("amocrm", "waba")
BUTTON_TYPES: Final = ("inline", "url")
WABA_CATEGORIES: Final = ("UTILITY", "AUTHENTICATION", "MARKETING")
WABA_FIELDS: Final = ("waba_category", "waba_language", "waba_header", "waba_footer", "waba_examples")
NAME_MAX: Final = 255
CONTENT_MAX: Final = 4096
BUTTON_TEXT_MAX: Final = 255
WABA_TEXT_MAX: Final = 60
_LANGUAGE: Final = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")


def content_problem(value: str) -> str | None:
    """Non-empty text of at most 4096 characters; new lines allowed, other control characters not."""
    if not value.strip():
        return f"must be non-empty text, got {GOT}"
    if len(value) > CONTENT_MAX:
        return f"must be at most {CONTENT_MAX} characters, got {len(value)} characters"
    if any(not char.isprintable() and char not in "\n\t" for char in value):
        return f"must be printable text (new lines allowed), got {GOT}"
    return None


def type_problem(value: str) -> str | None:
    return None if value in TYPES else f"must be 'amocrm' (a plain template) or 'waba' (WhatsApp), got {GOT}"


def button_type_problem(value: str) -> str | None:
    return (
        None if value in BUTTON_TYPES else f"must be 'inline' (a reply button) or 'url' (a link), got {GOT}"
    )


def url_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        return f"must be an http(s) URL such as 'https://example.com/offer', got {GOT}"
    return None if len(value) <= 2000 else f"must be at most 2000 characters, got {len(value)} characters"


def buttons_problem(value: list[Any]) -> str | Problem | None:
    """A ``url`` button needs its ``url``; an ``inline`` one has none."""
    for index, button in enumerate(value):
        if not isinstance(button, dict):
            continue
        kind, url = button.get("type"), button.get("url")
        if kind == "url" and url is None:
            return f"[{index}].url is required for a 'url' button"
        if kind == "inline" and url is not None:
            return Problem(
                f"[{index}].url belongs to 'url' buttons only; an 'inline' button has none, got {GOT}", url
            )
    return None


def category_problem(value: str) -> str | None:
    return None if value in WABA_CATEGORIES else f"must be UTILITY, AUTHENTICATION or MARKETING, got {GOT}"


def language_problem(value: str) -> str | None:
    return (
        None if _LANGUAGE.fullmatch(value) else f"must be a language code such as 'en' or 'pt_BR', got {GOT}"
    )


def waba_text_problem(value: str) -> str | None:
    return text_problem(value, limit=WABA_TEXT_MAX)


BUTTON: Final = Model(
    "kommo:index:ChatTemplateButton",
    "A button of a chat template: a reply (`inline`) or a link (`url`).",
    (
        Field(
            "type",
            Kind.STRING,
            "`inline` (a reply button) or `url` (a link).",
            required=True,
            check=button_type_problem,
        ),
        Field(
            "text",
            Kind.STRING,
            "The button's label.",
            required=True,
            check=lambda v: text_problem(v, limit=BUTTON_TEXT_MAX),
        ),
        Field("url", Kind.STRING, "Where a `url` button links to.", check=url_problem),
    ),
)

CHAT_TEMPLATE: Final = Model(
    "kommo:index:ChatTemplate",
    "A chat template of the account (REST API v4 `/api/v4/chats/templates`): a message a bot or an agent "
    "sends in a chat, plain (`amocrm`) or a WhatsApp Business template (`waba`) that Meta reviews before "
    "it may be sent. Kommo shows an integration only its own templates, and lets a `waba` template be "
    "changed only while it is a draft: once sent for review, change it by making a new one. Only an "
    "account administrator's token may manage templates.\n\n"
    "## Import\n\nA template is imported by its account and Kommo's template id, and read whole:\n\n"
    "```sh\n$ pulumi import kommo:index:ChatTemplate greeting example.kommo.com/5001\n```",
    (
        ACCOUNT,
        Field(
            "name",
            Kind.STRING,
            "The template's name, as agents see it in Kommo.",
            required=True,
            check=lambda v: text_problem(v, limit=NAME_MAX),
            api=True,
        ),
        Field(
            "content",
            Kind.STRING,
            "The message text, at most 4096 characters; new lines allowed.",
            required=True,
            check=content_problem,
            api=True,
        ),
        Field(
            "external_id",
            Kind.STRING,
            "The template's id in your integration, at most 40 printable ASCII characters: how your bot "
            "refers to it, and how a template whose create answer was lost is found again. Keep it unique "
            "among the integration's templates of the account.",
            required=True,
            check=external_id_problem,
            api=True,
        ),
        Field(
            "type",
            Kind.STRING,
            "`amocrm` (default: a plain template) or `waba` (a WhatsApp Business template). Changing it "
            "replaces the template.",
            change=Change.REPLACE,
            check=type_problem,
            default="amocrm",
            api=True,
        ),
        Field(
            "buttons",
            Kind.OBJECT_LIST,
            "Buttons under the message. Left out: keep what Kommo has.",
            change=Change.KEEP,
            check=buttons_problem,
            item=BUTTON,
            api=True,
        ),
        Field(
            "waba_category",
            Kind.STRING,
            "A `waba` template's category: `UTILITY`, `AUTHENTICATION` or `MARKETING`.",
            change=Change.KEEP,
            check=category_problem,
            api=True,
        ),
        Field(
            "waba_language",
            Kind.STRING,
            "A `waba` template's language code, such as `en` or `pt_BR`.",
            change=Change.KEEP,
            check=language_problem,
            api=True,
        ),
        Field(
            "waba_header",
            Kind.STRING,
            "A `waba` template's header, at most 60 characters.",
            change=Change.KEEP,
            check=waba_text_problem,
            api=True,
        ),
        Field(
            "waba_footer",
            Kind.STRING,
            "A `waba` template's footer, at most 60 characters.",
            change=Change.KEEP,
            check=waba_text_problem,
            api=True,
        ),
        Field(
            "waba_examples",
            Kind.STRING_MAP,
            "A `waba` template's example values of its placeholders, for Meta's review.",
            change=Change.KEEP,
            api=True,
        ),
        Field(
            "template_id",
            Kind.INTEGER,
            "Kommo's numeric id of the template; the resource's id is `<account>/<templateId>`.",
            output_only=True,
            stable=True,
        ),
        Field(
            "is_editable",
            Kind.BOOLEAN,
            "Whether agents may edit the template in Kommo.",
            output_only=True,
            api=True,
        ),
        Field(
            "review_status",
            Kind.STRING,
            "A `waba` template's review by Meta: `draft` (not sent for review yet), `review`, `approved`, "
            "`rejected` or `paused`; none for an `amocrm` template.",
            output_only=True,
        ),
    ),
)


class ChatTemplate(RestObject):
    """Create POSTs, update PATCHes (a draft, for a `waba` template), delete DELETEs, refresh GETs by id."""

    model: ClassVar[Model] = CHAT_TEMPLATE
    endpoint: ClassVar[Endpoint] = Endpoint(
        "/chats/templates",
        "chat_templates",
        natural_key="external_id",
        read_params={"with": "reviews"},
        precheck=True,
    )
    number_field: ClassVar[str] = "template_id"
    noun: ClassVar[str] = "chat template"

    def problems(self, ctx: Context, desired: Mapping[str, Any]) -> list[tuple[str, str]]:
        found = super().problems(ctx, desired)
        if desired.get("type", "amocrm") != "waba":
            found += [
                (name, f"belongs to 'waba' templates only; set type: waba, or leave {name} out")
                for name in WABA_FIELDS
                if desired.get(name) is not None
            ]
        return found

    def state(self, obj: Mapping[str, Any], account: str) -> dict[str, Any]:
        """Kommo's template, with its latest review's status (a `waba` one not yet sent: ``draft``)."""
        state = super().state(obj, account)
        reviews = (obj.get("_embedded") or {}).get("reviews") or obj.get("reviews") or []
        statuses = [r.get("status") for r in reviews if isinstance(r, dict) and r.get("status")]
        state["review_status"] = (
            statuses[-1] if statuses else ("draft" if obj.get("type") == "waba" else None)
        )
        state["buttons"] = list(obj.get("buttons") or [])
        return state

    def send_update(
        self, client: RestApiClient, number: int, body: Mapping[str, Any], stored: Mapping[str, Any]
    ) -> dict[str, Any]:
        status = stored.get("review_status")
        if stored.get("type") == "waba" and status not in (None, "draft"):
            raise PluginError(
                f"updating the chat template {number} failed: Kommo lets a WhatsApp template be changed only "
                f"while it is a draft, and this one is {status}: declare a new ChatTemplate resource "
                "(another name and externalId) for the changed text, and remove this one when no longer used"
            )
        return super().send_update(client, number, body, stored)


RESOURCE: Final = ChatTemplate()
