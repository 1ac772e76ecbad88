"""Lead sources (``/api/v4/sources``) on the generic collection: their fields and Kommo's rules for them.

A source is owned by the integration whose token made it; its pipeline must be one of the account's,
its ``external_id`` unique within the integration, and an integration has at most 100 of them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from kommo_provider.emulator.rest.collection import ObjectType
from kommo_provider.emulator.rest.exceptions import (
    INVALID_TYPE,
    INVALID_VALUE,
    LIMIT_EXCEEDED,
    NOT_SUPPORTED_CHOICE,
    NOT_UNIQUE,
    FieldError,
)
from kommo_provider.emulator.rest.models import Account, Grant, ObjectInput
from kommo_provider.emulator.rest.validation import FieldReader, is_integer, not_blank

MAX_SOURCES_PER_INTEGRATION: Final = 100

# Deliberate copies of the limits in kommo_provider/resources/source.py: the emulator is Kommo, no import.
EXTERNAL_ID_MAX_LENGTH: Final = 40
ORIGIN_CODE_MAX_LENGTH: Final = 20

_SERVICE_KEYS: Final = frozenset({"type", "params", "pages"})
_SERVICE_FLAGS: Final = ("waba", "is_supports_list_message")
_PAGE_KEYS: Final = ("name", "id", "link")


@dataclass
class Source:
    """A lead source, owned by the account and integration whose token created it."""

    id: int
    account_id: int
    integration_id: str
    name: str
    external_id: str
    pipeline_id: int
    default: bool | None = False
    origin_code: str | None = None
    services: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The fields the API shows (not the owner, which the caller already is)."""
        return {
            "id": self.id,
            "name": self.name,
            "pipeline_id": self.pipeline_id,
            "external_id": self.external_id,
            "default": self.default,
            "origin_code": self.origin_code,
            "services": copy.deepcopy(self.services),
        }


class SourceType(ObjectType[Source]):
    """Sources: owned per integration, filtered by ``external_id``, deleted with 204."""

    name = "sources"
    path = "sources"
    embedded = "sources"
    singular = "source"
    noun = "Source"
    filters = ("external_id",)
    first_id = 20_001
    drift_keys = frozenset({"name", "pipeline_id"})

    def shape(
        self, payload: Mapping[str, Any], path: str, *, creating: bool
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """``name`` and ``external_id`` (required on create), ``pipeline_id`` (``null`` on create = the
        main pipeline), ``default``, ``origin_code``, ``services``."""
        reader = FieldReader(payload, path, creating=creating)
        reader.text("name", not_blank("name"), required=True)
        reader.text("external_id", _external_id_problem, required=True)
        if "pipeline_id" in payload and not (creating and payload["pipeline_id"] is None):
            if is_integer(payload["pipeline_id"]) and payload["pipeline_id"] > 0:
                reader.fields["pipeline_id"] = payload["pipeline_id"]
            else:
                detail = "pipeline_id must be the id (a positive integer) of a pipeline of the account"
                reader.error(INVALID_TYPE, "pipeline_id", detail)
        reader.boolean("default", nullable=True)
        if "origin_code" in payload:
            problem = _origin_code_problem(payload["origin_code"])
            if problem:
                reader.error(INVALID_VALUE, "origin_code", problem)
            else:
                reader.fields["origin_code"] = payload["origin_code"]
        if "services" in payload:
            services, problems = _services(payload["services"], path + "services")
            reader.errors.extend(problems)
            if not problems:
                reader.fields["services"] = services
        return reader.fields, reader.errors

    def build(
        self, object_id: int, grant: Grant, account: Account, fields: Mapping[str, Any], now: int
    ) -> Source:
        return Source(
            id=object_id,
            account_id=account.id,
            integration_id=grant.integration_id,
            name=fields["name"],
            external_id=fields["external_id"],
            pipeline_id=fields.get("pipeline_id") or account.main_pipeline().id,
            default=fields.get("default", False),
            origin_code=fields.get("origin_code"),
            services=copy.deepcopy(fields.get("services") or []),
        )

    def create_errors(
        self, account: Account, owned: Sequence[Source], inputs: Sequence[ObjectInput]
    ) -> list[list[FieldError]]:
        """Each pipeline must exist, each external_id be new; the last item reports the 100 limit."""
        taken = {s.external_id: s.id for s in owned}
        failures = []
        for item in inputs:
            errors = _state_errors(account, item, taken)
            if len(owned) + len(inputs) > MAX_SOURCES_PER_INTEGRATION and item is inputs[-1]:
                detail = (
                    f"An integration can have at most {MAX_SOURCES_PER_INTEGRATION} sources; "
                    f"it has {len(owned)}, this call adds {len(inputs)}"
                )
                errors.append(FieldError(LIMIT_EXCEEDED, item.path.rstrip("."), detail))
            failures.append(errors)
            taken[item.fields["external_id"]] = -1
        return failures

    def update_errors(
        self,
        account: Account,
        owned: Sequence[Source],
        targets: Sequence[Source],
        inputs: Sequence[ObjectInput],
    ) -> list[list[FieldError]]:
        """Each pipeline must exist; an external_id must stay unique across the batch and the rest."""
        changing = {t.id for t in targets}
        taken = {s.external_id: s.id for s in owned if s.id not in changing}
        failures = []
        for item, target in zip(inputs, targets, strict=True):
            failures.append(_state_errors(account, item, taken))
            taken[item.fields.get("external_id", target.external_id)] = target.id
        return failures

    def drift_problem(self, changes: Mapping[str, Any]) -> str | None:
        name, pipeline_id = changes.get("name"), changes.get("pipeline_id")
        if name is not None and not (isinstance(name, str) and name):
            return "name must be a non-empty string"
        if pipeline_id is not None and not is_integer(pipeline_id):
            return "pipeline_id must be a pipeline id (an integer)"
        return None

    def drift(self, obj: Source, changes: Mapping[str, Any], account: Account, now: int) -> None:
        """Rename a source or move it to another pipeline of its account."""
        pipeline_id = changes.get("pipeline_id")
        if pipeline_id is not None:
            if all(p.id != pipeline_id for p in account.pipelines):
                raise ValueError(f"pipeline {pipeline_id} is not a pipeline of the source's account")
            obj.pipeline_id = pipeline_id
        if changes.get("name") is not None:
            obj.name = changes["name"]

    def to_dict(self, obj: Source, wanted: frozenset[str] = frozenset()) -> dict[str, Any]:
        return obj.to_dict()


SOURCES: Final = SourceType()


def _state_errors(account: Account, item: ObjectInput, taken: Mapping[str, int]) -> list[FieldError]:
    errors = []
    pipeline_id = item.fields.get("pipeline_id")
    if pipeline_id is not None and all(p.id != pipeline_id for p in account.pipelines):
        detail = f"Pipeline {pipeline_id} does not exist in this account; GET /api/v4/leads/pipelines"
        errors.append(FieldError(NOT_SUPPORTED_CHOICE, f"{item.path}pipeline_id", detail))
    external_id = item.fields.get("external_id")
    if external_id is not None and taken.get(external_id, item.object_id) != item.object_id:
        detail = f"external_id {external_id!r} is already used by another source of this integration"
        errors.append(FieldError(NOT_UNIQUE, f"{item.path}external_id", detail))
    return errors


def _external_id_problem(value: str) -> str:
    if not 1 <= len(value) <= EXTERNAL_ID_MAX_LENGTH:
        return f"external_id must be 1 to {EXTERNAL_ID_MAX_LENGTH} characters, got {len(value)}"
    if not all(" " <= char <= "~" for char in value):
        return "external_id must be printable ASCII characters only (space to '~')"
    return ""


def _origin_code_problem(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return "origin_code must be a string or null"
    if not 1 <= len(value) <= ORIGIN_CODE_MAX_LENGTH:
        return f"origin_code must be 1 to {ORIGIN_CODE_MAX_LENGTH} characters, got {len(value)}"
    if value.isdigit():
        return "origin_code must not be only digits"
    return None


def _services(value: Any, path: str) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """``services``: null (none) or a list of ``{"type", "params"?, "pages"?}`` objects."""
    if value is None:
        return [], []
    if not isinstance(value, list):
        return [], [FieldError(INVALID_TYPE, path, "services must be an array of service objects")]
    services: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for index, service in enumerate(value):
        where = f"{path}.{index}"
        if not isinstance(service, dict):
            errors.append(FieldError(INVALID_TYPE, where, "each service must be a JSON object"))
            continue
        for key in sorted(set(service) - _SERVICE_KEYS):
            errors.append(
                FieldError(INVALID_VALUE, f"{where}.{key}", "a service has only type, params, pages")
            )
        if not isinstance(service.get("type"), str):
            errors.append(FieldError(INVALID_TYPE, f"{where}.type", 'type must be a string, e.g. "whatsapp"'))
        errors.extend(_service_params(service.get("params"), f"{where}.params"))
        errors.extend(_service_pages(service.get("pages"), f"{where}.pages"))
        services.append(dict(service))
    return services, errors


def _service_params(params: Any, path: str) -> list[FieldError]:
    if params is None:
        return []
    if not isinstance(params, Mapping):
        return [FieldError(INVALID_TYPE, path, "params must be an object")]
    return [
        FieldError(INVALID_TYPE, f"{path}.{flag}", f"{flag} must be true or false")
        for flag in _SERVICE_FLAGS
        if flag in params and not isinstance(params[flag], bool)
    ]


def _service_pages(pages: Any, path: str) -> list[FieldError]:
    if pages is None:
        return []
    if not isinstance(pages, list):
        return [FieldError(INVALID_TYPE, path, "pages must be an array of {name, id, link} objects")]
    errors = []
    for index, page in enumerate(pages):
        if not isinstance(page, Mapping) or not all(isinstance(page.get(k), str) for k in _PAGE_KEYS):
            detail = "each page must be an object with string name, id and link"
            errors.append(FieldError(INVALID_TYPE, f"{path}.{index}", detail))
    return errors
