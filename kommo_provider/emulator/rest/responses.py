"""Handles Kommo REST API v4 requests: the bearer token, the body, one backend call, a HAL answer.

Every operation authenticates first (401), then checks the body (400), then asks the backend (404,
400 for state). Successes are ``application/hal+json`` with ``_links`` and ``_embedded``; an empty
list is 204 with no body, as Kommo answers. No state lives here (see :mod:`.backend`). Slightly
over 300 lines because, as in a moto ``responses.py``, every operation is here under its API name.
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
from kommo_provider.emulator.rest.exceptions import (
    INVALID_TYPE,
    INVALID_VALUE,
    FieldError,
    KommoApiError,
    NotFound,
    ValidationFailed,
    bad_request,
)
from kommo_provider.emulator.rest.models import Grant, Pipeline, Source, SourceInput, Webhook
from kommo_provider.emulator.rest.validation import (
    destination_problem,
    is_integer,
    source_fields,
    webhook_fields,
)

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

    # Sources ------------------------------------------------------------------------------------

    def list_sources(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``GET /api/v4/sources[?filter[external_id]=X]``: the integration's sources; 204 if none."""
        external_id = request.args.get("filter[external_id]")
        sources = self.backend.list_sources(self._grant(request), external_id)
        return _source_list(request, sources)

    def get_source(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``GET /api/v4/sources/{id}``: one source; 204 once it was deleted."""
        source = self.backend.get_source(self._grant(request), int(params["source_id"]))
        if source is None:
            return EmulatorResponse(status=HTTPStatus.NO_CONTENT)
        return _hal(_source(request, source))

    def create_sources(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /api/v4/sources`` with an array of sources: all are created, or none."""
        grant = self._grant(request)
        items = _array(request, 'an array of sources, e.g. [{"name": ..., "external_id": ...}]')
        inputs = _source_inputs(items, creating=True)
        created = self.backend.create_sources(grant, inputs)
        embedded = [
            {**_source(request, source), "request_id": item.request_id}
            for source, item in zip(created, inputs, strict=True)
        ]
        return _hal({"_links": _links(request, "/api/v4/sources"), "_embedded": {"sources": embedded}})

    def update_sources(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``PATCH /api/v4/sources`` with an array of sources, each with its ``id``: all or none."""
        grant = self._grant(request)
        items = _array(request, "an array of sources, each with its id")
        inputs = _source_inputs(items, creating=False)
        updated = self.backend.update_sources(grant, inputs)
        return _hal(
            {
                "_links": _links(request, "/api/v4/sources"),
                "_embedded": {"sources": [_source(request, s) for s in updated]},
            }
        )

    def update_source(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``PATCH /api/v4/sources/{id}`` with an object of the fields to change."""
        grant = self._grant(request)
        payload = _json(request)
        if not isinstance(payload, dict):
            raise bad_request("Request body must be a JSON object of the source fields to change")
        fields, errors = source_fields(payload, "", creating=False)
        request_id = _request_id(payload, 0)
        if errors:
            raise ValidationFailed([(request_id, errors)])
        source_id = int(params["source_id"])
        (updated,) = self.backend.update_sources(grant, [SourceInput(request_id, "", fields, source_id)])
        return _hal(_source(request, updated))

    def delete_source(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``DELETE /api/v4/sources/{id}``: 204."""
        self.backend.delete_sources(self._grant(request), [int(params["source_id"])])
        return EmulatorResponse(status=HTTPStatus.NO_CONTENT)

    def delete_sources(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``DELETE /api/v4/sources`` with ``[{"id": ...}, ...]``: all are deleted, or none; 204."""
        grant = self._grant(request)
        items = _array(request, 'an array of {"id": <source id>} objects')
        errors = [
            FieldError(INVALID_TYPE, f"{index}.id", "id must be the id of a source (an integer)")
            for index, item in enumerate(items)
            if not (isinstance(item, dict) and is_integer(item.get("id")))
        ]
        if errors:
            raise ValidationFailed([("0", errors)])
        self.backend.delete_sources(grant, [item["id"] for item in items])
        return EmulatorResponse(status=HTTPStatus.NO_CONTENT)

    # Webhooks -----------------------------------------------------------------------------------

    def list_webhooks(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``GET /api/v4/webhooks[?filter[destination]=URL]``: the account's webhooks; 204 if none."""
        destination = request.args.get("filter[destination]")
        webhooks = self.backend.list_webhooks(self._grant(request), destination)
        if not webhooks:
            return EmulatorResponse(status=HTTPStatus.NO_CONTENT)
        return _hal(
            {
                "_total_items": len(webhooks),
                "_links": _links(request, "/api/v4/webhooks"),
                "_embedded": {"webhooks": [_webhook(w) for w in webhooks]},
            }
        )

    def subscribe_webhook(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /api/v4/webhooks`` ``{"destination", "settings", "sort"?}``: the webhook."""
        grant = self._grant(request)
        payload = _json(request)
        if not isinstance(payload, dict):
            raise bad_request('Request body must be a JSON object {"destination", "settings", "sort"?}')
        destination, settings, sort, errors = webhook_fields(payload)
        if errors:
            raise ValidationFailed([("0", errors)])
        return _hal(_webhook(self.backend.subscribe_webhook(grant, destination, settings, sort)))

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


def _source(request: EmulatorRequest, source: Source) -> dict[str, Any]:
    return {**source.to_dict(), "_links": _links(request, f"/api/v4/sources/{source.id}")}


def _source_list(request: EmulatorRequest, sources: Sequence[Source]) -> EmulatorResponse:
    if not sources:
        return EmulatorResponse(status=HTTPStatus.NO_CONTENT)
    return _hal(
        {
            "_total_items": len(sources),
            "_links": _links(request, "/api/v4/sources"),
            "_embedded": {"sources": [_source(request, s) for s in sources]},
        }
    )


def _webhook(webhook: Webhook) -> dict[str, Any]:
    return webhook.to_dict()


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


def _source_inputs(items: Sequence[Any], *, creating: bool) -> list[SourceInput]:
    """Shape-check every item; one 400 lists the problems of all of them."""
    inputs: list[SourceInput] = []
    failures: list[tuple[str, list[FieldError]]] = []
    for index, item in enumerate(items):
        path = f"{index}."
        fields, errors = source_fields(item, path, creating=creating)
        source_id = None
        if not creating:
            raw_id = item.get("id") if isinstance(item, dict) else None
            if is_integer(raw_id):
                source_id = raw_id
            else:
                errors.append(FieldError(INVALID_TYPE, f"{path}id", "id of the source to change is required"))
        request_id = _request_id(item, index)
        failures.append((request_id, errors))
        inputs.append(SourceInput(request_id, path, fields, source_id))
    if any(errors for _, errors in failures):
        raise ValidationFailed(failures)
    return inputs
