"""Shape checks of REST request fields: types, lengths, character sets, URLs, event codes.

Checks return :class:`~.exceptions.FieldError` lists instead of raising, so one answer lists every
problem of every item, as Kommo's ``validation-errors`` do. Each detail names the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from kommo_provider.emulator.rest.exceptions import (
    FIELD_MISSING,
    INVALID_TYPE,
    INVALID_VALUE,
    NOT_SUPPORTED_CHOICE,
    FieldError,
)

EXTERNAL_ID_MAX_LENGTH: Final = 40
ORIGIN_CODE_MAX_LENGTH: Final = 20

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

_SERVICE_KEYS: Final = frozenset({"type", "params", "pages"})
_SERVICE_FLAGS: Final = ("waba", "is_supports_list_message")
_PAGE_KEYS: Final = ("name", "id", "link")


def is_integer(value: Any) -> bool:
    """A JSON integer (JSON booleans decode to ``bool``, an ``int`` subclass, and are not integers)."""
    return isinstance(value, int) and not isinstance(value, bool)


def source_fields(payload: Any, path: str, *, creating: bool) -> tuple[dict[str, Any], list[FieldError]]:
    """The recognised fields of one source object (unknown keys are ignored), and their problems.

    ``path`` prefixes error paths (``"0."`` for the first item of an array). ``creating`` makes
    ``name`` and ``external_id`` required and lets ``pipeline_id: null`` mean the main pipeline.
    """
    if not isinstance(payload, dict):
        where = path.rstrip(".")
        return {}, [FieldError(INVALID_TYPE, where, "Each source must be a JSON object")]
    fields: dict[str, Any] = {}
    errors: list[FieldError] = []

    def text(name: str, check: Any) -> None:
        if name not in payload:
            if creating:
                errors.append(FieldError(FIELD_MISSING, path + name, f"{name} is required"))
            return
        value = payload[name]
        if not isinstance(value, str):
            errors.append(FieldError(INVALID_TYPE, path + name, f"{name} must be a string"))
            return
        problem = check(value)
        if problem:
            errors.append(FieldError(INVALID_VALUE, path + name, problem))
        else:
            fields[name] = value

    text("name", lambda v: "" if v.strip() else "name must not be empty")
    text("external_id", _external_id_problem)
    if "pipeline_id" in payload and not (creating and payload["pipeline_id"] is None):
        value = payload["pipeline_id"]
        if is_integer(value) and value > 0:
            fields["pipeline_id"] = value
        else:
            detail = "pipeline_id must be the id (a positive integer) of a pipeline of the account"
            errors.append(FieldError(INVALID_TYPE, path + "pipeline_id", detail))
    if "default" in payload:
        if payload["default"] is None or isinstance(payload["default"], bool):
            fields["default"] = payload["default"]
        else:
            errors.append(FieldError(INVALID_TYPE, path + "default", "default must be true, false or null"))
    if "origin_code" in payload:
        origin_code = payload["origin_code"]
        problem = None if origin_code is None else _origin_code_problem(origin_code)
        if problem:
            errors.append(FieldError(INVALID_VALUE, path + "origin_code", problem))
        else:
            fields["origin_code"] = origin_code
    if "services" in payload:
        services, problems = _services(payload["services"], path + "services")
        errors.extend(problems)
        if not problems:
            fields["services"] = services
    return fields, errors


def _external_id_problem(value: str) -> str:
    if not 1 <= len(value) <= EXTERNAL_ID_MAX_LENGTH:
        return f"external_id must be 1 to {EXTERNAL_ID_MAX_LENGTH} characters, got {len(value)}"
    if not all(" " <= char <= "~" for char in value):
        return "external_id must be printable ASCII characters only (space to '~')"
    return ""


def _origin_code_problem(value: Any) -> str | None:
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


def webhook_fields(payload: Mapping[str, Any]) -> tuple[str, list[str], int | None, list[FieldError]]:
    """destination, settings (deduplicated, in order), sort (``None`` = keep/default), and problems."""
    errors: list[FieldError] = []
    destination = payload.get("destination")
    problem = destination_problem(destination)
    if problem:
        errors.append(FieldError(INVALID_VALUE, "destination", problem))
    settings = payload.get("settings")
    codes: list[str] = []
    if not isinstance(settings, list) or not settings:
        detail = 'settings must be a non-empty array of event codes, e.g. ["add_lead"]'
        errors.append(FieldError(FIELD_MISSING if settings is None else INVALID_TYPE, "settings", detail))
    else:
        for index, code in enumerate(settings):
            if isinstance(code, str) and code in EVENT_CODES:
                codes.append(code)
            else:
                detail = f"{code!r} is not a webhook event code; use e.g. add_lead, update_contact, add_talk"
                errors.append(FieldError(NOT_SUPPORTED_CHOICE, f"settings.{index}", detail))
    sort = payload.get("sort")
    if sort is not None and not (is_integer(sort) and sort >= 0):
        errors.append(FieldError(INVALID_TYPE, "sort", "sort must be a non-negative integer"))
    return str(destination), list(dict.fromkeys(codes)), sort, errors


def destination_problem(destination: Any) -> str | None:
    """Why ``destination`` is not an http(s) URL with a host, or ``None`` when it is one."""
    if not isinstance(destination, str) or not destination:
        return "destination is required: the http(s) URL the webhook posts to"
    parts = urlsplit(destination)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in destination):
        return "destination must be an http(s) URL with a host, e.g. https://example.com/hook"
    return None
