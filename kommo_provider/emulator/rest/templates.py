"""Chat templates (``/api/v4/chats/templates``) on the generic collection: fields, buttons, WhatsApp review.

Only the integration that made a template sees it. An ``amocrm`` template can always be edited; a
``waba`` (WhatsApp Business) one only while its review status is ``draft``: ``POST …/{id}/review``
sends it for review, and Meta's verdict (``approved``, ``rejected`` with a reason, ``paused``) reaches
the emulator through the admin drift route, as it reaches Kommo from outside the API.

Not emulated: attachments (``attachment`` is ignored), sending templates, Kommo's limits on content and
buttons, and ``POST …/{id}/review/{review_id}`` (a channel's verdict). A waba template has one review,
whose id is the template's and whose ``source_id`` is null (Kommo keeps one per WhatsApp source). Rules
Kommo does not document, chosen here: a template's ``external_id`` need not be unique, ``type`` cannot
change after the create, ``is_editable`` in a request is ignored (the review status decides it), and a
delete of a template in review is allowed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Final

from kommo_provider.emulator.rest.collection import Collection, ObjectType
from kommo_provider.emulator.rest.exceptions import (
    FIELD_MISSING,
    INVALID_TYPE,
    INVALID_VALUE,
    NOT_EDITABLE,
    NOT_SUPPORTED_CHOICE,
    FieldError,
    ValidationFailed,
    bad_request,
)
from kommo_provider.emulator.rest.models import Account, Grant, ObjectInput
from kommo_provider.emulator.rest.validation import FieldReader, not_blank, url_problem

TEMPLATE_TYPES: Final = ("amocrm", "waba")
WABA_CATEGORIES: Final = ("UTILITY", "AUTHENTICATION", "MARKETING")
REVIEW_STATUSES: Final = ("draft", "review", "approved", "rejected", "paused")
BUTTON_TYPES: Final = ("inline", "url")
NAME_MAX_LENGTH: Final = 255
WABA_FIELDS: Final = ("waba_header", "waba_footer", "waba_category", "waba_language", "waba_examples")
EDIT_RULE: Final = "A waba template can be edited only while its review status is draft"

_LANGUAGE: Final = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")


@dataclass
class Review:
    """The WhatsApp review of a waba template (one per template here, sharing the template's id)."""

    id: int
    status: str
    source_id: int | None = None
    reject_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChatTemplate:
    """A chat template, owned by the account and integration whose token created it."""

    id: int
    account_id: int
    integration_id: str
    name: str
    content: str
    created_at: int
    updated_at: int
    type: str = "amocrm"
    buttons: list[dict[str, Any]] = field(default_factory=list)
    external_id: str | None = None
    waba_header: str | None = None
    waba_footer: str | None = None
    waba_category: str | None = None
    waba_language: str | None = None
    waba_examples: dict[str, Any] | None = None
    reviews: list[Review] = field(default_factory=list)

    @property
    def review_status(self) -> str | None:
        """The WhatsApp review status of a waba template; ``None`` for an amocrm one."""
        return self.reviews[0].status if self.reviews else None

    @property
    def is_editable(self) -> bool:
        """Whether the API may change it: amocrm always, waba only in draft."""
        return self.type != "waba" or self.review_status == "draft"

    def to_dict(self, wanted: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The fields the API shows; ``_embedded.reviews`` when asked ``with=reviews``."""
        body = {
            "id": self.id,
            "account_id": self.account_id,
            "name": self.name,
            "content": self.content,
            "type": self.type,
            "buttons": copy.deepcopy(self.buttons),
            "external_id": self.external_id,
            "is_editable": self.is_editable,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            **{name: copy.deepcopy(getattr(self, name)) for name in WABA_FIELDS},
        }
        if "reviews" in wanted:
            body["_embedded"] = {"reviews": [review.to_dict() for review in self.reviews]}
        return body


class TemplateType(ObjectType[ChatTemplate]):
    """Chat templates: owned per integration, filtered by ``external_id``, deleted with ``{"result"}``."""

    name = "chat_templates"
    path = "chats/templates"
    embedded = "chat_templates"
    singular = "chat_template"
    noun = "Chat template"
    filters = ("external_id",)
    with_values = frozenset({"reviews"})
    first_id = 70_001
    delete_answers_result = True
    actions: ClassVar[Mapping[str, tuple[str, ...]]] = {"/review": ("POST",)}
    drift_keys = frozenset({"name", "content", "buttons", "review_status", "reject_reason"})

    def shape(
        self, payload: Mapping[str, Any], path: str, *, creating: bool
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """``name`` and ``content`` (required on create), ``type``, ``buttons``, ``external_id``,
        ``is_editable`` (accepted, not stored: the review status decides) and the ``waba_*`` fields."""
        reader = FieldReader(payload, path, creating=creating)
        reader.text("name", _name_problem, required=True)
        reader.text("content", not_blank("content"), required=True)
        reader.text("external_id", not_blank("external_id"), nullable=True)
        reader.boolean("is_editable")
        reader.fields.pop("is_editable", None)
        if reader.present("type") and payload["type"] not in TEMPLATE_TYPES:
            reader.error(NOT_SUPPORTED_CHOICE, "type", f"type must be one of {', '.join(TEMPLATE_TYPES)}")
        elif "type" in payload:
            reader.fields["type"] = payload["type"]
        if reader.present("buttons"):
            buttons, problems = buttons_of(payload["buttons"], path + "buttons")
            reader.errors.extend(problems)
            if not problems:
                reader.fields["buttons"] = buttons
        _waba_shapes(reader)
        return reader.fields, reader.errors

    def build(
        self, object_id: int, grant: Grant, account: Account, fields: Mapping[str, Any], now: int
    ) -> ChatTemplate:
        kind = fields.get("type", "amocrm")
        template = ChatTemplate(
            id=object_id,
            account_id=account.id,
            integration_id=grant.integration_id,
            name=fields["name"],
            content=fields["content"],
            created_at=now,
            updated_at=now,
            type=kind,
            reviews=[Review(object_id, "draft")] if kind == "waba" else [],
        )
        self.apply(template, {k: v for k, v in fields.items() if k != "type"}, now)
        return template

    def create_errors(
        self, account: Account, owned: Sequence[ChatTemplate], inputs: Sequence[ObjectInput]
    ) -> list[list[FieldError]]:
        """WhatsApp fields only on a waba template."""
        return [_waba_only(item, item.fields.get("type", "amocrm")) for item in inputs]

    def update_errors(
        self,
        account: Account,
        owned: Sequence[ChatTemplate],
        targets: Sequence[ChatTemplate],
        inputs: Sequence[ObjectInput],
    ) -> list[list[FieldError]]:
        """A waba template only in draft (one 400 naming the rule); no change of type; waba fields only
        on a waba template."""
        locked = [
            (
                item.request_id,
                [FieldError(NOT_EDITABLE, f"{item.path}id", f"template {t.id} is {t.review_status}")],
            )
            for item, t in zip(inputs, targets, strict=True)
            if not t.is_editable
        ]
        if locked:
            raise ValidationFailed(locked, detail=EDIT_RULE)
        failures = []
        for item, target in zip(inputs, targets, strict=True):
            errors = _waba_only(item, target.type)
            if item.fields.get("type", target.type) != target.type:
                detail = f"type cannot change from {target.type}; create a new template instead"
                errors.append(FieldError(NOT_SUPPORTED_CHOICE, f"{item.path}type", detail))
            failures.append(errors)
        return failures

    def drift_problem(self, changes: Mapping[str, Any]) -> str | None:
        for name in ("name", "content"):
            if name in changes and not (isinstance(changes[name], str) and changes[name].strip()):
                return f"{name} must be a non-empty string"
        problems = buttons_of(changes["buttons"], "buttons")[1] if "buttons" in changes else []
        if problems:
            return f"{problems[0].path}: {problems[0].detail}"
        status, reason = changes.get("review_status"), changes.get("reject_reason")
        if status is not None and status not in REVIEW_STATUSES:
            return f"review_status must be one of {', '.join(REVIEW_STATUSES)}"
        if reason is not None and not isinstance(reason, str):
            return "reject_reason must be a string"
        if status == "rejected" and not reason:
            return "a rejected review needs a reject_reason"
        if reason is not None and status is None:
            return "reject_reason goes with a review_status"
        return None

    def drift(self, obj: ChatTemplate, changes: Mapping[str, Any], account: Account, now: int) -> None:
        """Rename or rewrite a template, or set its review status as Meta's verdict would."""
        if changes.get("review_status") is not None:
            if not obj.reviews:
                raise ValueError(f"template {obj.id} is an amocrm template: only waba templates are reviewed")
            obj.reviews[0].status = changes["review_status"]
            obj.reviews[0].reject_reason = changes.get("reject_reason")
        edits = {k: v for k, v in changes.items() if k in ("name", "content") and v is not None}
        if "buttons" in changes:
            edits["buttons"] = buttons_of(changes["buttons"], "buttons")[0]
        self.apply(obj, edits, now)

    def to_dict(self, obj: ChatTemplate, wanted: frozenset[str] = frozenset()) -> dict[str, Any]:
        return obj.to_dict(wanted)

    def act(
        self, action: str, collection: Collection[ChatTemplate], grant: Grant, object_id: int, now: int
    ) -> Any:
        """``POST …/{id}/review``: send a waba template in draft for WhatsApp review."""
        template = send_for_review(collection, grant, object_id, now)
        return {"_embedded": {"reviews": [review.to_dict() for review in template.reviews]}}


CHAT_TEMPLATES: Final = TemplateType()


def send_for_review(
    templates: Collection[ChatTemplate], grant: Grant, template_id: int, now: int
) -> ChatTemplate:
    """``POST …/{id}/review``: a waba template in draft goes to review; anything else is a 400."""
    template = templates.owned(grant, template_id)
    if not template.reviews:
        raise bad_request(f"Template {template_id} is an amocrm template: only waba templates are reviewed")
    if template.review_status != "draft":
        raise bad_request(
            f"Template {template_id} is {template.review_status}: only a draft is sent for review"
        )
    template.reviews[0].status = "review"
    template.reviews[0].reject_reason = None
    template.updated_at = now
    return copy.deepcopy(template)


def buttons_of(value: Any, path: str) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """``buttons``: null (none) or ``[{"type": "inline", "text"}]`` / ``[{"type": "url", "text", "url"}]``."""
    if value is None:
        return [], []
    if not isinstance(value, list):
        return [], [FieldError(INVALID_TYPE, path, "buttons must be an array of button objects")]
    errors: list[FieldError] = []
    for index, button in enumerate(value):
        where = f"{path}.{index}"
        if not isinstance(button, dict):
            errors.append(FieldError(INVALID_TYPE, where, 'each button must be an object {"type", "text"}'))
            continue
        kind = button.get("type")
        if kind not in BUTTON_TYPES:
            errors.append(FieldError(NOT_SUPPORTED_CHOICE, f"{where}.type", "type must be inline or url"))
        for key in sorted(set(button) - {"type", "text", "url"}):
            errors.append(FieldError(INVALID_VALUE, f"{where}.{key}", "a button has only type, text, url"))
        text = button.get("text")
        if not isinstance(text, str) or not text.strip():
            code = FIELD_MISSING if text is None else INVALID_VALUE
            errors.append(FieldError(code, f"{where}.text", "text is required: the button's label"))
        if kind == "url" and (problem := url_problem("url", button.get("url"))):
            errors.append(FieldError(INVALID_VALUE, f"{where}.url", f"a url button needs {problem}"))
        if kind == "inline" and "url" in button:
            errors.append(FieldError(INVALID_VALUE, f"{where}.url", "an inline button has no url"))
    return copy.deepcopy(value), errors


def _name_problem(value: str) -> str:
    if not value.strip():
        return "name must not be empty"
    if len(value) > NAME_MAX_LENGTH:
        return f"name must be at most {NAME_MAX_LENGTH} characters, got {len(value)}"
    return ""


def _waba_shapes(reader: FieldReader) -> None:
    """The WhatsApp fields, each nullable: header, footer, category, language, examples."""
    reader.text("waba_header", nullable=True)
    reader.text("waba_footer", nullable=True)
    categories = ", ".join(WABA_CATEGORIES)
    if reader.present("waba_category"):
        if reader.payload["waba_category"] in (None, *WABA_CATEGORIES):
            reader.fields["waba_category"] = reader.payload["waba_category"]
        else:
            reader.error(NOT_SUPPORTED_CHOICE, "waba_category", f"waba_category must be one of {categories}")
    reader.text("waba_language", _language_problem, nullable=True)
    if reader.present("waba_examples"):
        examples = reader.payload["waba_examples"]
        if examples is None or (
            isinstance(examples, dict) and all(isinstance(v, str) for v in examples.values())
        ):
            reader.fields["waba_examples"] = copy.deepcopy(examples)
        else:
            detail = 'waba_examples must be an object of example values, e.g. {"{{contact.name}}": "Ann"}'
            reader.error(INVALID_TYPE, "waba_examples", detail)


def _language_problem(value: str) -> str:
    if _LANGUAGE.match(value):
        return ""
    return "waba_language must be a language code such as en, es or pt_BR"


def _waba_only(item: ObjectInput, kind: str) -> list[FieldError]:
    """WhatsApp fields set (not null) on a template that is not ``waba``."""
    if kind == "waba":
        return []
    return [
        FieldError(INVALID_VALUE, f"{item.path}{name}", f"{name} is only for waba templates (type is {kind})")
        for name in WABA_FIELDS
        if item.fields.get(name) is not None
    ]
