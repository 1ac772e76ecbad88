"""Handles the emulator's control routes: state dump, reset, faults, channels, accounts, drift.

The drift routes change REST objects out of band, as a user in Kommo's UI (or Kommo itself) would,
so tests can make a refresh find differences. Errors answer in amojo's JSON error shape
(:mod:`..amojo.exceptions`), as they always have; no answer contains a secret or a token, except
:meth:`AdminResponse.get_vendor_token`'s: it plays a vendor's token service, whose job is to hand one out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

from kommo_provider.emulator.admin import urls
from kommo_provider.emulator.amojo.exceptions import (
    AmojoError,
    invalid,
    json_object,
    number,
    optional,
    required_str,
)
from kommo_provider.emulator.amojo.models import DEFAULT_CHANNEL_NAME, AmojoBackend
from kommo_provider.emulator.faults import FaultPlan
from kommo_provider.emulator.http import EmulatorRequest, EmulatorResponse, compile_routes, json_response
from kommo_provider.emulator.ids import canonical_id
from kommo_provider.emulator.requestlog import RequestLog
from kommo_provider.emulator.rest import AccountSpec, RestBackend, UnknownObjectError, token_expiry
from kommo_provider.emulator.rest.accounts import ACCESS_TOKEN_LIFETIME_SECONDS
from kommo_provider.emulator.rest.registry import object_type

FAULT_KEYS = frozenset(
    {
        "clear",
        "script",
        "rate",
        "kinds",
        "seed",
        "rate_limit",
        "clock_offset_seconds",
        "retry_after",
        "delay_seconds",
    }
)


class AdminResponse:
    """Answers the control routes for the emulator's backends; one method per operation."""

    routes = compile_routes(urls.url_paths, api=False)

    def __init__(
        self, amojo: AmojoBackend, rest: RestBackend, faults: FaultPlan, request_log: RequestLog
    ) -> None:
        self.amojo = amojo
        self.rest = rest
        self.faults = faults
        self.request_log = request_log

    # What the app needs from a service ---------------------------------------------------------

    def error(
        self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> EmulatorResponse:
        return AmojoError(status, code, detail, headers).to_response()

    def rate_limit_key(self, request: EmulatorRequest, params: Mapping[str, str]) -> str | None:
        return None

    def logged_headers(self, request: EmulatorRequest) -> dict[str, str]:
        return {}  # admin requests are never logged

    # Operations ---------------------------------------------------------------------------------

    def get_state(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``GET /_emulator/state``: channel ids, all connections, the request log, the fault plan,
        and the REST side's ``accounts`` (with pipelines and integration ids) and one list per
        collection (``sources``, ``webhooks``, ...: every type of :mod:`..rest.registry`).
        """
        return json_response(
            HTTPStatus.OK,
            {
                "channels": self.amojo.channel_ids(),
                "connections": [c.to_dict() for c in self.amojo.connections(include_disconnected=True)],
                "requests": [r.to_dict() for r in self.request_log.requests()],
                "faults": self.faults.to_dict(),
                **self.rest.state(),
            },
        )

    def reset_state(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /_emulator/reset``: forget connections, every REST object and the log.

        Channels, accounts, tokens and the fault plan stay.
        """
        self.amojo.reset()
        self.rest.reset()
        self.request_log.clear()
        return json_response(HTTPStatus.OK, {"status": "ok"})

    def configure_faults(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /_emulator/faults``: change the fault plan; answers with the resulting plan.

        Keys (any combination): ``clear`` (true: back to no faults, no limit, no skew; applied
        first), ``script`` (list of kinds), ``rate`` + ``kinds`` (+ ``seed``), ``rate_limit``
        (number or null), ``clock_offset_seconds``, ``retry_after``, ``delay_seconds``.
        """
        payload = json_object(request.body, allow_empty=True)
        unknown = sorted(set(payload) - FAULT_KEYS)
        if unknown:
            raise AmojoError(HTTPStatus.BAD_REQUEST, "INVALID_FIELD", f"unknown key(s): {', '.join(unknown)}")
        try:
            self._apply_faults(payload)
        except ValueError as exc:
            raise AmojoError(HTTPStatus.BAD_REQUEST, "INVALID_FIELD", str(exc)) from None
        return json_response(HTTPStatus.OK, {"faults": self.faults.to_dict()})

    def _apply_faults(self, payload: Mapping[str, Any]) -> None:
        if optional(payload, "clear", bool, "a JSON boolean"):
            self.faults.reset()
        script = optional(payload, "script", list, "a list of fault kinds")
        if script is not None:
            self.faults.script([_kind(item, "script") for item in script])
        if "rate" in payload or "kinds" in payload or "seed" in payload:
            rate = number(payload, "rate", required=True)
            kinds = optional(payload, "kinds", list, "a list of fault kinds") or []
            seed = optional(payload, "seed", int, "an integer", allow_null=True)
            self.faults.set_rate(rate, [_kind(k, "kinds") for k in kinds], seed)
        if "rate_limit" in payload:
            self.faults.set_rate_limit(number(payload, "rate_limit", allow_null=True))
        if "clock_offset_seconds" in payload:
            self.faults.clock_offset_seconds = number(payload, "clock_offset_seconds")
        if "retry_after" in payload:
            retry_after = optional(payload, "retry_after", int, "an integer")
            if retry_after is None or retry_after < 0:
                raise invalid("retry_after", "a non-negative integer", retry_after)
            self.faults.retry_after = retry_after
        if "delay_seconds" in payload:
            delay = number(payload, "delay_seconds")
            if delay < 0:
                raise invalid("delay_seconds", "a non-negative number", delay)
            self.faults.delay_seconds = delay

    def add_channel(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /_emulator/channels``: register a channel ``{"channel_id", "secret", "name"?}``.

        The answer echoes the id and name only: admin answers never contain a secret.
        """
        payload = json_object(request.body)
        channel_id = required_str(payload, "channel_id")
        secret = payload.get("secret")
        if not isinstance(secret, str) or not secret:
            # Not required_str: its message quotes the value received, and this one is a secret.
            raise AmojoError(
                HTTPStatus.BAD_REQUEST,
                "INVALID_FIELD",
                "Field secret is required and must be a non-empty string",
            )
        name = optional(payload, "name", str, "a string") or DEFAULT_CHANNEL_NAME
        self.amojo.add_channel(channel_id, secret, name)
        return json_response(HTTPStatus.OK, {"channel_id": channel_id, "name": name})

    # REST accounts and out-of-band changes -----------------------------------------------------

    def add_account(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /_emulator/accounts``: serve an account (one with the same subdomain is replaced).

        Body: ``{"subdomain", "token"?, "integration_id"?, "amojo_id"?, "name"?, "id"?,
        "pipelines"?: [names, the first is the main one]}``. Answers ``{"account": ...}`` without
        the token.
        """
        payload = json_object(request.body)
        pipelines = optional(payload, "pipelines", list, "an array of pipeline names")
        if pipelines is not None and not all(isinstance(name, str) and name for name in pipelines):
            raise invalid("pipelines", "an array of non-empty pipeline names", pipelines)
        spec = AccountSpec(
            subdomain=required_str(payload, "subdomain"),
            token=_token(payload) if "token" in payload else None,
            amojo_id=optional(payload, "amojo_id", str, "a UUID string"),
            name=optional(payload, "name", str, "a string"),
            id=optional(payload, "id", int, "an integer"),
            pipelines=tuple(pipelines) if pipelines is not None else AccountSpec.pipelines,
            integration_id=optional(payload, "integration_id", str, "a UUID string")
            or AccountSpec.integration_id,
        )
        with _as_admin_errors():
            account = self.rest.add_account(spec)
        entry = account.to_dict()
        entry["integrations"] = self.rest.integrations(account.subdomain)
        return json_response(HTTPStatus.OK, {"account": entry})

    def add_token(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /_emulator/tokens`` ``{"subdomain", "token", "integration_id"?}``: one more token.

        Answers ``{"subdomain", "integration_id", "expires_at"}``, never the token.
        """
        payload = json_object(request.body)
        subdomain = required_str(payload, "subdomain")
        integration_id = (
            optional(payload, "integration_id", str, "a UUID string") or AccountSpec.integration_id
        )
        with _as_admin_errors():
            grant = self.rest.add_token(subdomain, _token(payload), integration_id=integration_id)
        return json_response(
            HTTPStatus.OK,
            {"subdomain": subdomain, "integration_id": grant.integration_id, "expires_at": grant.expires_at},
        )

    def rotate_token(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``POST /_emulator/tokens/rotate`` ``{"subdomain", "integration_id"?, "lifetime_seconds"?}``.

        Issues a new token for the account and integration and revokes the older ones of that pair,
        as an OAuth refresh does. Answers ``{"subdomain", "integration_id", "expires_at"}``, never the
        token: a test reads it from the vendor token service, as a provider's token command would.
        """
        payload = json_object(request.body)
        subdomain = required_str(payload, "subdomain")
        integration_id = (
            optional(payload, "integration_id", str, "a UUID string") or AccountSpec.integration_id
        )
        lifetime = optional(payload, "lifetime_seconds", int, "an integer number of seconds")
        with _as_admin_errors():
            token = self.rest.rotate_token(
                subdomain,
                integration_id=integration_id,
                lifetime_seconds=ACCESS_TOKEN_LIFETIME_SECONDS if lifetime is None else lifetime,
            )
        return json_response(
            HTTPStatus.OK,
            {
                "subdomain": subdomain,
                "integration_id": canonical_id(integration_id),
                "expires_at": token_expiry(token),
            },
        )

    def get_vendor_token(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``GET /_emulator/vendor-tokens/{host}[?integration_id=...]``: what a vendor's backend hands out.

        ``host`` is ``demo.kommo.com`` or a bare ``demo``. Answers ``{"accessToken", "expiresAt"}``
        (the account's newest unrevoked, unexpired token and its ``exp``, Unix seconds) in the shape a
        provider's ``tokenCommand`` prints; 404 for an unknown account or one without such a token.
        """
        subdomain = params["host"].lower().split(".", 1)[0]
        with _as_admin_errors():
            token, grant = self.rest.newest_token(subdomain, request.args.get("integration_id"))
        return json_response(HTTPStatus.OK, {"accessToken": token, "expiresAt": grant.expires_at})

    def change_object(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``PATCH /_emulator/objects/<collection>/{id}``: change an object as a user in Kommo's UI would.

        The body holds what the collection's type lets change (its ``drift_keys``): a source
        ``{"name"?, "pipeline_id"?}``, a webhook ``{"disabled"?, "settings"?, "sort"?}``. Answers
        ``{"<singular>": <the object>}`` (``source``, ``webhook``, ...).
        """
        payload = json_object(request.body)
        with _as_admin_errors():
            kind = object_type(params["collection"])
            changed = self.rest.change_object(kind.name, int(params["object_id"]), payload)
        return json_response(HTTPStatus.OK, {kind.singular: kind.to_dict(changed, kind.with_values)})

    def remove_object(self, request: EmulatorRequest, params: Mapping[str, str]) -> EmulatorResponse:
        """``DELETE /_emulator/objects/<collection>/{id}``: delete an object behind its owner's back."""
        with _as_admin_errors():
            kind = object_type(params["collection"])
            removed = self.rest.remove_object(kind.name, int(params["object_id"]))
        return json_response(HTTPStatus.OK, {kind.singular: kind.to_dict(removed, kind.with_values)})


def _token(payload: Mapping[str, Any]) -> str:
    token = payload.get("token")
    if not isinstance(token, str) or not token:
        # Not required_str: its message quotes the value received, and this one is a secret.
        raise AmojoError(
            HTTPStatus.BAD_REQUEST, "INVALID_FIELD", "Field token is required and must be a non-empty string"
        )
    return token


@contextmanager
def _as_admin_errors() -> Iterator[None]:
    """Backend refusals as admin answers: unknown objects 404, bad values 400 (messages name no token)."""
    try:
        yield
    except UnknownObjectError as exc:
        raise AmojoError(HTTPStatus.NOT_FOUND, "NOT_FOUND", str(exc)) from None
    except ValueError as exc:
        raise AmojoError(HTTPStatus.BAD_REQUEST, "INVALID_FIELD", str(exc)) from None


def _kind(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise invalid(name, "a list of fault kinds (strings)", value)
    return value
