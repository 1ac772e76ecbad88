"""Handles Kommo REST API v4 requests: the bearer token, the body, one backend call, a HAL answer.

Every operation authenticates first (401), then checks the body (400), then asks the backend (404,
400 for state). Successes are ``application/hal+json`` with ``_links`` and ``_embedded``; an empty
list is 204 with no body, as Kommo answers. The collection operations (list, get, create, update,
delete) serve every declared object type (:mod:`.registry`), which the route names in its
``collection`` group; only Kommo's irregular calls have a handler of their own. No state lives here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

from kommo_provider.emulator.http import (
    EmulatorRequest,
    EmulatorResponse,
    compile_routes,
    json_body,
    json_response,
)
from kommo_provider.emulator.rest import urls
from kommo_provider.emulator.rest.backend import RestBackend
from kommo_provider.emulator.rest.collection import ObjectType
from kommo_provider.emulator.rest.exceptions import (
    INVALID_TYPE,
    INVALID_VALUE,
    FieldError,
    KommoApiError,
    NotFound,
    ValidationFailed,
    bad_request,
)
from kommo_provider.emulator.rest.models import Grant, ObjectInput, Pipeline
from kommo_provider.emulator.rest.registry import object_type_at
from kommo_provider.emulator.rest.validation import is_integer
from kommo_provider.emulator.rest.webhooks import WEBHOOKS, destination_problem

HAL_JSON: Final = "application/hal+json"
REDACTED: Final = "[redacted]"


def bearer_token(request: EmulatorRequest) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or ``None``."""
    scheme, _, token = (request.header("Authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class RestResponse:
    """Turns REST API v4 requests into answers for one backend; one method per operation."""

    routes = compile_routes(urls.url_paths, api=True)

    def __init__(self, backend: RestBackend) -> None:
        self.backend = backend

    # What the app needs from a service ---------------------------------------------------------

    def error(
        self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> EmulatorResponse:
        return KommoApiError(status, detail, headers=headers).to_response()

    def rate_limit_key(self, request: EmulatorRequest, params: Mapping[str, str]) -> str | None:
        """Kommo limits requests per account; a request without a known token is not counted."""
        grant = self.backend.grant_for(bearer_token(request))
        return f"account {grant.account_id}" if grant is not None else None

    def logged_headers(self, request: EmulatorRequest) -> dict[str, str]:
        """The headers as sent, with the ``Authorization`` value (the access token) redacted."""
        return {
            name: REDACTED if name.lower() == "authorization" else value
            for name, value in request.headers_as_sent().items()
        }

    # Account and pipelines ----------------------------------------------------------------------

    def get_account(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``GET /api/v4/account[?with=amojo_id]``: the account the token opens."""
        account = self.backend.get_account(self._grant(request))
        wanted = {part.strip() for part in request.args.get("with", "").split(",")}
        body: dict[str, Any] = {
            "id": account.id,
            "name": account.name,
            "subdomain": account.subdomain,
            "created_at": account.created_at,
            "current_user_id": account.user_id,
            "country": "US",
            "currency": "USD",
            "is_unsorted_on": True,
            "is_technical_account": False,
        }
        if "amojo_id" in wanted:
            body["amojo_id"] = account.amojo_id
        body["_links"] = _links(request, "/api/v4/account")
        return _hal(body)

    def list_pipelines(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``GET /api/v4/leads/pipelines``: every pipeline of the account with its statuses."""
        pipelines = self.backend.list_pipelines(self._grant(request))
        items = [_pipeline(request, p) for p in pipelines]
        return _hal(
            {
                "_total_items": len(items),
                "_links": _links(request, "/api/v4/leads/pipelines"),
                "_embedded": {"pipelines": items},
            }
        )

    # Any collection ------------------------------------------------------------------------------

    def list_objects(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``GET /api/v4/<path>[?filter[<field>]=X][&with=...]``: what the token's owner sees; 204 if none."""
        kind = object_type_at(params["collection"])
        asked = {name: request.args.get(f"filter[{name}]") for name in kind.filters}
        filters = {name: value for name, value in asked.items() if value is not None}
        found = self.backend.list_objects(kind.name, self._grant(request), filters)
        if not found:
            return EmulatorResponse(status=HTTPStatus.NO_CONTENT)
        wanted = _with(request, kind)
        return _hal(
            {
                "_total_items": len(found),
                "_links": _links(request, f"/api/v4/{kind.path}"),
                "_embedded": {kind.embedded: [_item(request, kind, obj, wanted) for obj in found]},
            }
        )

    def get_object(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``GET /api/v4/<path>/{id}[?with=...]``: one object; 204 once it was deleted."""
        kind = object_type_at(params["collection"])
        found = self.backend.get_object(kind.name, self._grant(request), int(params["object_id"]))
        if found is None:
            return EmulatorResponse(status=HTTPStatus.NO_CONTENT)
        return _hal(_item(request, kind, found, _with(request, kind)))

    def create_objects(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /api/v4/<path>`` with an array of objects: all are created, or none."""
        kind = object_type_at(params["collection"])
        grant = self._grant(request)
        items = _array(request, f"an array of {kind.embedded.replace('_', ' ')}")
        inputs = _inputs(kind, items, creating=True)
        created = self.backend.create_objects(kind.name, grant, inputs)
        embedded = [
            {**_item(request, kind, obj), "request_id": item.request_id}
            for obj, item in zip(created, inputs, strict=True)
        ]
        return _hal(
            {"_links": _links(request, f"/api/v4/{kind.path}"), "_embedded": {kind.embedded: embedded}}
        )

    def update_objects(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``PATCH /api/v4/<path>`` with an array of objects, each with its ``id``: all or none."""
        kind = object_type_at(params["collection"])
        grant = self._grant(request)
        items = _array(request, f"an array of {kind.embedded.replace('_', ' ')}, each with its id")
        updated = self.backend.update_objects(kind.name, grant, _inputs(kind, items, creating=False))
        return _hal(
            {
                "_links": _links(request, f"/api/v4/{kind.path}"),
                "_embedded": {kind.embedded: [_item(request, kind, obj) for obj in updated]},
            }
        )

    def update_object(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``PATCH /api/v4/<path>/{id}`` with an object of the fields to change."""
        kind = object_type_at(params["collection"])
        grant = self._grant(request)
        payload = _json(request)
        if not isinstance(payload, dict):
            raise bad_request(f"Request body must be a JSON object of the {kind.label} fields to change")
        fields, errors = kind.shape(payload, "", creating=False)
        request_id = _request_id(payload, 0)
        if errors:
            raise ValidationFailed([(request_id, errors)])
        item = ObjectInput(request_id, "", fields, int(params["object_id"]))
        (updated,) = self.backend.update_objects(kind.name, grant, [item])
        return _hal(_item(request, kind, updated))

    def delete_object(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``DELETE /api/v4/<path>/{id}``: 204, or 200 ``{"result": true}`` where Kommo answers so."""
        kind = object_type_at(params["collection"])
        self.backend.delete_objects(kind.name, self._grant(request), [int(params["object_id"])])
        return _deleted(kind)

    def delete_objects(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``DELETE /api/v4/<path>`` with ``[{"id": ...}, ...]``: all are deleted, or none."""
        kind = object_type_at(params["collection"])
        grant = self._grant(request)
        items = _array(request, f'an array of {{"id": <{kind.label} id>}} objects')
        errors = [
            FieldError(INVALID_TYPE, f"{index}.id", f"id must be the id of a {kind.label} (an integer)")
            for index, item in enumerate(items)
            if not (isinstance(item, dict) and is_integer(item.get("id")))
        ]
        if errors:
            raise ValidationFailed([("0", errors)])
        self.backend.delete_objects(kind.name, grant, [item["id"] for item in items])
        return _deleted(kind)

    # Webhooks: subscribed and unsubscribed by destination ----------------------------------------

    def subscribe_webhook(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /api/v4/webhooks`` ``{"destination", "settings", "sort"?}``: the webhook."""
        grant = self._grant(request)
        payload = _json(request)
        if not isinstance(payload, dict):
            raise bad_request('Request body must be a JSON object {"destination", "settings", "sort"?}')
        fields, errors = WEBHOOKS.shape(payload, "", creating=True)
        if errors:
            raise ValidationFailed([("0", errors)])
        destination, settings, sort = fields["destination"], fields["settings"], fields["sort"]
        return _hal(WEBHOOKS.to_dict(self.backend.subscribe_webhook(grant, destination, settings, sort)))

    def unsubscribe_webhook(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``DELETE /api/v4/webhooks`` ``{"destination": URL}``: 204."""
        grant = self._grant(request)
        payload = _json(request)
        if not isinstance(payload, dict):
            raise bad_request('Request body must be a JSON object {"destination": URL}')
        problem = destination_problem(payload.get("destination"))
        if problem:
            raise ValidationFailed([("0", [FieldError(INVALID_VALUE, "destination", problem)])])
        self.backend.unsubscribe_webhook(grant, payload["destination"])
        return EmulatorResponse(status=HTTPStatus.NO_CONTENT)

    def object_action(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /api/v4/<path>/{id}/<action>``: an operation an object type declares beyond CRUD (its
        ``actions``)."""
        kind = object_type_at(params["collection"])
        found = self.backend.act(kind.name, self._grant(request), int(params["object_id"]), params["action"])
        return _hal(found)

    def not_found(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """Any other path under ``/api/v4``: 404 (after the token check, as for every REST call)."""
        self._grant(request)
        raise NotFound(f"{request.raw_path} is not an API v4 method this emulator knows")

    def _grant(self, request: EmulatorRequest) -> Grant:
        return self.backend.authenticate(bearer_token(request))


def _hal(body: Any) -> EmulatorResponse:
    return json_response(HTTPStatus.OK, body, HAL_JSON)


def _links(request: EmulatorRequest, path: str) -> dict[str, Any]:
    """``_links.self`` on the host the request used, so a client can follow it to the emulator."""
    return {"self": {"href": request.host_url.rstrip("/") + path}}


def _pipeline(request: EmulatorRequest, pipeline: Pipeline) -> dict[str, Any]:
    body = pipeline.to_dict()
    statuses = body.pop("statuses")
    base = f"/api/v4/leads/pipelines/{pipeline.id}"
    for status in statuses:
        status["_links"] = _links(request, f"{base}/statuses/{status['id']}")
    body["_links"] = _links(request, base)
    body["_embedded"] = {"statuses": statuses}
    return body


def _with(request: EmulatorRequest, kind: ObjectType[Any]) -> frozenset[str]:
    """The ``with`` values asked for that the object type knows (others are ignored, as Kommo does)."""
    asked = {part.strip() for part in request.args.get("with", "").split(",")}
    return frozenset(asked & kind.with_values)


def _item(
    request: EmulatorRequest, kind: ObjectType[Any], obj: Any, wanted: frozenset[str] = frozenset()
) -> dict[str, Any]:
    body = kind.to_dict(obj, wanted)
    if kind.links:
        body["_links"] = _links(request, f"/api/v4/{kind.path}/{obj.id}")
    return body


def _deleted(kind: ObjectType[Any]) -> EmulatorResponse:
    if kind.delete_answers_result:
        return _hal({"result": True})
    return EmulatorResponse(status=HTTPStatus.NO_CONTENT)


def _json(request: EmulatorRequest) -> Any:
    try:
        return json_body(request.body)
    except ValueError:
        raise bad_request("Request body is not valid UTF-8 JSON") from None


def _array(request: EmulatorRequest, expected: str) -> list[Any]:
    payload = _json(request)
    if not isinstance(payload, list) or not payload:
        raise bad_request(f"Request body must be {expected} (a non-empty JSON array)")
    return payload


def _request_id(item: Any, index: int) -> str:
    """The item's own ``request_id`` (echoed back, as Kommo does), or its index."""
    given = item.get("request_id") if isinstance(item, dict) else None
    return given if isinstance(given, str) and given else str(index)


def _inputs(kind: ObjectType[Any], items: Sequence[Any], *, creating: bool) -> list[ObjectInput]:
    """Shape-check every item; one 400 lists the problems of all of them."""
    inputs: list[ObjectInput] = []
    failures: list[tuple[str, list[FieldError]]] = []
    for index, item in enumerate(items):
        path = f"{index}."
        if isinstance(item, dict):
            fields, errors = kind.shape(item, path, creating=creating)
        else:
            fields, errors = (
                {},
                [FieldError(INVALID_TYPE, str(index), f"Each {kind.label} must be a JSON object")],
            )
        object_id = None
        if not creating:
            raw_id = item.get("id") if isinstance(item, dict) else None
            if is_integer(raw_id):
                object_id = raw_id
            else:
                detail = f"id of the {kind.label} to change is required"
                errors.append(FieldError(INVALID_TYPE, f"{path}id", detail))
        request_id = _request_id(item, index)
        failures.append((request_id, errors))
        inputs.append(ObjectInput(request_id, path, fields, object_id))
    if any(errors for _, errors in failures):
        raise ValidationFailed(failures)
    return inputs
