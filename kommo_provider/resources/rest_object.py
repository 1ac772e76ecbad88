"""An object of Kommo's REST API v4, created, read, updated, deleted and imported the same way for all.

A REST resource declares its table, where it lives (an :class:`Endpoint`) and which field of the
state holds Kommo's numeric id; create, read, update, delete, import and the lookup of an object by its
natural key come from here. A resource writes code only where Kommo is irregular (a webhook re-posts
instead of patching, and is deleted by its destination).

Every object belongs to an account: the resource's ``account``, or the provider's default
``accountDomain``. Its id carries the account, ``<host>/<id>``, so refresh, delete and ``pulumi import``
find it from the id alone, whatever provider serves it; an id written by 0.3.0 (the number alone)
belongs to the account state records, else to the provider's default account.

A create whose outcome is unknown (Kommo failed after it may have committed, the answer timed out,
or the connection broke after the request was sent) looks the object up by its natural key and adopts
it when it is the one just asked for: Kommo and state end in agreement either way. An object that
already exists is refused with one line saying how to adopt it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final

from ..claims import ClaimKey
from ..configuration import REST
from ..exceptions import (
    ApiError,
    InvalidRequestError,
    ObjectNotFoundError,
    PluginError,
    ServerError,
    TokenRejectedError,
    TransportError,
    UnexpectedResponseError,
)
from ..hosts import resolve_account_domain
from ..model import GOT, Change, Field, Kind
from ..validation import refused_by
from .base import Context, Found, Resource

if TYPE_CHECKING:
    from ..rest import RestApiClient

log = logging.getLogger("kommo_provider")

ID_EXAMPLE: Final = "example.kommo.com/123456"
_NUMBER: Final = re.compile(r"[1-9][0-9]{0,17}")
"""Kommo's numeric ids as an id writes them: ASCII digits, no sign, no leading zero, no spaces."""

ACCOUNT: Final = Field(
    "account",
    Kind.STRING,
    "The Kommo account the object belongs to, as its host: `example.kommo.com`, or a bare `example` "
    "(amoCRM's `example.amocrm.ru` and `example.amocrm.com` too; never `www`). Left out: the provider's "
    "`accountDomain`. Changing it replaces the object. Not a secret: it is part of the resource's id.",
    change=Change.REPLACE,
    check=refused_by(resolve_account_domain),
    canonical=resolve_account_domain,
    identity=True,
    stable=True,
    output_description="The account the object belongs to, as its host.",
)
"""The account of every REST resource and function: one provider serves a fleet of accounts."""


def account_problems(ctx: Context, account: Any) -> list[tuple[str, str]]:
    """What is missing to reach ``account`` (left out, or without a token), worded for the program."""
    if account is None:
        return [
            (
                "account",
                "is required: set account on the resource (the account's host, such as "
                "example.kommo.com), or accountDomain on the kommo provider for a default account",
            )
        ]
    known = ctx.known("access_tokens", "token_command", "access_token")
    if isinstance(account, str) and known and ctx.token_origin(account) is None:
        return [
            (
                "account",
                f"{account} has no access token: add it to the kommo provider's accessTokens, or set "
                "tokenCommand to a program that prints each account's token",
            )
        ]
    return []


TOKEN_FIXES: Final = {
    "accessTokens": "give it a valid token in the kommo provider's accessTokens",
    "accessToken": "set accessToken on the kommo provider (or kommo:accessToken) to a valid token of the "
    "account's integration",
    "tokenCommand": "tokenCommand's token was refused again after it was fetched anew: check what the "
    "command prints for this account",
}


def token_fix(ctx: Context, account: str, exc: Exception) -> str:
    """After Kommo refused a token: where it came from, and what to do."""
    if not isinstance(exc, TokenRejectedError):
        return ""
    origin = ctx.token_origin(account)
    return f"; {TOKEN_FIXES[origin]}" if origin in TOKEN_FIXES else ""


def object_id(account: str, number: Any) -> str:
    """The resource id of an object: ``<account host>/<Kommo's id>``."""
    return f"{account}/{number}"


def split_id(id_: str) -> tuple[str | None, str]:
    """``(account, rest)`` of an id that starts with an account's host, else ``(None, id_)``."""
    head, slash, rest = id_.partition("/")
    if not slash or ":" in head:
        return None, id_
    try:
        return resolve_account_domain(head), rest
    except ValueError:  # not a host: an id of 0.3.0 (a number, or a webhook's destination URL)
        return None, id_


def parse_number(text: str, what: str) -> int:
    """Kommo's numeric id from an id's text; one sentence saying what it should be, otherwise."""
    if not _NUMBER.fullmatch(text):
        raise PluginError(
            f"{what} is `<account host>/<Kommo's numeric id>`, such as {ID_EXAMPLE}; the id after the "
            "account must be ASCII digits without spaces, sign or leading zeros"
        )
    return int(text)


@dataclass(frozen=True)
class Endpoint:
    """Where an object lives in Kommo's REST API v4, and how it is found again.

    ``path`` is the collection (``/sources``; an object is ``<path>/<id>``), ``embedded`` the key of the
    list in a HAL answer, ``natural_key`` the field ``filter[<field>]`` finds an object by (unique per
    integration, as Kommo keeps it, or as this provider asks of the program). ``precheck`` looks that
    key up before a create, where Kommo would not refuse a second object with it.
    """

    path: str
    embedded: str
    natural_key: str
    read_params: Mapping[str, str] = field(default_factory=dict)
    precheck: bool = False


class RestObject(Resource):
    """A REST API v4 object, as its :class:`Endpoint` says; subclasses override only Kommo's quirks."""

    group: ClassVar[str] = REST
    endpoint: ClassVar[Endpoint]
    number_field: ClassVar[str]
    """The core name of the state field that holds Kommo's numeric id."""
    noun: ClassVar[str]
    """What the object is called in messages: ``source``."""

    # -- the account ---------------------------------------------------------------------------------

    def desired(self, ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
        wanted = dict(inputs)
        if wanted.get("account") is None:
            wanted["account"] = ctx.default_account
        return wanted

    def stored(self, ctx: Context, id_: str, state: Mapping[str, Any]) -> dict[str, Any]:
        """State with its account: as recorded, from the id, or (0.3.0 state) the provider's default."""
        found = dict(state)
        if not isinstance(found.get("account"), str):
            found["account"] = split_id(id_)[0] or ctx.default_account
        return found

    def problems(self, ctx: Context, desired: Mapping[str, Any]) -> list[tuple[str, str]]:
        return account_problems(ctx, desired.get("account"))

    def claim_keys(
        self, ctx: Context, values: Mapping[str, Any], id_: str | None = None
    ) -> tuple[ClaimKey, ...]:
        account, key = values.get("account"), values.get(self.endpoint.natural_key)
        if not isinstance(account, str):
            return ()
        base = str(ctx.get("api_base_url") or "")
        keys = []
        if isinstance(key, str):
            keys.append(ClaimKey(self.model.token, (base, account, self.endpoint.natural_key, key)))
        number = values.get(self.number_field)
        if number is not None:
            keys.append(ClaimKey(self.model.token, (base, account, "id", str(number))))
        return tuple(keys)

    def _account(self, stored: Mapping[str, Any]) -> str:
        account = stored.get("account")
        if not isinstance(account, str):
            raise PluginError(
                f"this {self.noun}'s state names no account and the kommo provider has no accountDomain: "
                "run `pulumi refresh` with the provider that made it, or set accountDomain"
            )
        return account

    def locate(self, id_: str, stored: Mapping[str, Any]) -> int:
        """Kommo's numeric id of a stored object: from its id, or (0.3.0) its state."""
        _, rest = split_id(id_)
        if _NUMBER.fullmatch(rest):
            return int(rest)
        number = stored.get(self.number_field)
        if isinstance(number, (int, float)) and not isinstance(number, bool):
            return int(number)
        raise PluginError(f"the id {id_[:80]!r} names no {self.noun} of Kommo; its state has no id either")

    # -- what reaches Kommo -----------------------------------------------------------------------------

    def create(self, ctx: Context, desired: Mapping[str, Any]) -> Found:
        account = self._account(desired)
        client = ctx.rest(account)
        try:
            existing = self.find(client, desired) if self.endpoint.precheck else None
        except ApiError as exc:
            raise self.failed("creating", account, exc, ctx=ctx) from None
        if existing is not None:
            raise self.exists(account, existing)
        try:
            obj = self.send_create(client, self.body(desired))
        except InvalidRequestError as exc:
            existing = self._find_quietly(client, desired) if self._names_key(exc) else None
            if existing is not None:
                raise self.exists(account, existing) from None
            raise self.failed("creating", account, exc, ctx=ctx) from None
        except (ServerError, UnexpectedResponseError, TransportError) as exc:
            if isinstance(exc, TransportError) and not exc.sent:
                raise self.failed("creating", account, exc, ctx=ctx) from None
            obj = self.resolve_lost(client, account, desired, exc)
        except ApiError as exc:
            raise self.failed("creating", account, exc, ctx=ctx) from None
        return Found(object_id(account, obj["id"]), self.state(obj, account))

    def read(self, ctx: Context, id_: str, stored: Mapping[str, Any]) -> Found | None:
        account = self._account(stored)
        number = self.locate(id_, stored)
        try:
            obj = self.fetch(ctx.rest(account), number, stored)
        except ApiError as exc:
            raise self.failed("reading", account, exc, ctx=ctx) from None
        return None if obj is None else Found(object_id(account, obj["id"]), self.state(obj, account))

    def update(
        self, ctx: Context, id_: str, stored: Mapping[str, Any], desired: Mapping[str, Any]
    ) -> dict[str, Any]:
        account = self._account(stored)
        number = self.locate(id_, stored)
        try:
            obj = self.send_update(ctx.rest(account), number, self.body(desired), stored)
        except ApiError as exc:
            raise self.failed("updating", account, exc, ctx=ctx) from None
        return self.state(obj, account)

    def delete(self, ctx: Context, id_: str, stored: Mapping[str, Any]) -> None:
        account = self._account(stored)
        number = self.locate(id_, stored)
        try:
            self.send_delete(ctx.rest(account), number, stored)
        except ObjectNotFoundError:
            return  # gone already
        except ApiError as exc:
            raise self.failed("deleting", account, exc, ctx=ctx, kept=True) from None

    def import_(self, ctx: Context, id_: str) -> Found:
        account, rest = split_id(id_)
        account = account or ctx.default_account
        if account is None:
            raise PluginError(
                f"cannot import {self.model.name}: its id is `<account host>/<id>`, such as {ID_EXAMPLE}"
            )
        number = parse_number(rest, f"a {self.model.name}'s id")
        found = self.read(ctx, object_id(account, number), {"account": account})
        if found is None:
            raise PluginError(
                f"cannot import {self.model.name} {object_id(account, number)}: Kommo has no {self.noun} "
                f"with id {number} in {account} for this token (an object belongs to the integration that "
                "made it)"
            )
        return found

    # -- the calls: Kommo's regular shape, overridden where an object differs --------------------------

    def body(self, desired: Mapping[str, Any]) -> dict[str, Any]:
        """What is sent to Kommo: the table's API fields the program gave."""
        return {
            f.name: desired[f.name] for f in self.model.fields if f.api and desired.get(f.name) is not None
        }

    def state(self, obj: Mapping[str, Any], account: str) -> dict[str, Any]:
        """Kommo's object as state: the table's API fields, its id and its account."""
        state = {f.name: obj.get(f.name) for f in self.model.fields if f.api}
        state[self.number_field] = obj.get("id")
        state["account"] = account
        return state

    def send_create(self, client: RestApiClient, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST <path>`` with one object in an array (not repeated after a 5xx: it may exist already)."""
        response = client.send("POST", self.endpoint.path, body=[dict(body)], repeatable=False)
        created = client.embedded(response, self.endpoint.embedded)
        if len(created) != 1 or "id" not in created[0]:
            raise UnexpectedResponseError(f"creating a {self.noun} answered without it", method="POST")
        return created[0]

    def send_update(
        self, client: RestApiClient, number: int, body: Mapping[str, Any], stored: Mapping[str, Any]
    ) -> dict[str, Any]:
        response = client.send("PATCH", f"{self.endpoint.path}/{number}", body=dict(body))
        return client.json_object(response, self.noun)

    def send_delete(self, client: RestApiClient, number: int, stored: Mapping[str, Any]) -> None:
        client.send("DELETE", f"{self.endpoint.path}/{number}")

    def fetch(self, client: RestApiClient, number: int, stored: Mapping[str, Any]) -> dict[str, Any] | None:
        """The object by its id; ``None`` once it is gone (Kommo answers 204, or 404)."""
        return client.get(
            f"{self.endpoint.path}/{number}", self.noun, params=self.endpoint.read_params or None
        )

    def find(self, client: RestApiClient, desired: Mapping[str, Any]) -> dict[str, Any] | None:
        """The integration's object whose natural key is the desired one, if any."""
        key = self.endpoint.natural_key
        value = desired.get(key)
        params = {f"filter[{key}]": str(value), **self.endpoint.read_params}
        found = client.get_list(self.endpoint.path, self.endpoint.embedded, params=params)
        return next((obj for obj in found if obj.get(key) == value), None)

    # -- an unknown outcome, and words for failures --------------------------------------------------------

    def resolve_lost(
        self, client: RestApiClient, account: str, desired: Mapping[str, Any], lost: ApiError
    ) -> dict[str, Any]:
        """After a create whose answer was lost: the object Kommo made, if it is the one asked for."""
        key = self.model.field(self.endpoint.natural_key).schema_name
        try:
            found = self.find(client, desired)
        except ApiError as exc:
            raise PluginError(
                f"creating the {self.noun} in {account} may have succeeded, but Kommo's answer was lost "
                f"({lost}) and looking it up by {key} failed too ({exc}); run `pulumi up` again: it finds "
                f"a {self.noun} Kommo made and says how to adopt it"
            ) from None
        if found is None:
            raise self.failed(
                "creating",
                account,
                lost,
                suffix=f"; Kommo holds no {self.noun} with this {key}, so nothing was made",
            )
        if not self.model.plan(self.state(found, account), desired).changes:
            log.warning(
                "creating the %s in %s: Kommo's answer was lost (%s), and the %s it made (id %s) was "
                "found by its %s and adopted",
                self.noun,
                account,
                type(lost).__name__,
                self.noun,
                found.get("id"),
                key,
            )
            return found
        raise self.exists(account, found)

    def _find_quietly(self, client: RestApiClient, desired: Mapping[str, Any]) -> dict[str, Any] | None:
        try:
            return self.find(client, desired)
        except ApiError:
            return None

    def _names_key(self, exc: InvalidRequestError) -> bool:
        return any(path.rpartition(".")[2] == self.endpoint.natural_key for path in exc.paths)

    def exists(self, account: str, obj: Mapping[str, Any]) -> PluginError:
        """One line: the object is there already, and how to adopt it."""
        key = self.model.field(self.endpoint.natural_key).schema_name
        found = object_id(account, obj.get("id"))
        return PluginError(
            f"a {self.noun} with this {key} already exists in {account} (id {found}), made outside this "
            f"resource or by an earlier run that failed: adopt it with `pulumi import {self.model.token} "
            f"<name> {found}` (or the resource option `import: {found}`); if this stack's resource was "
            "renamed, give it an alias of its old name instead"
        )

    def failed(
        self,
        doing: str,
        account: str,
        exc: ApiError,
        *,
        ctx: Context | None = None,
        kept: bool = False,
        suffix: str = "",
    ) -> PluginError:
        stays = ", so it stays in state" if kept else ""
        fix = token_fix(ctx, account, exc) if ctx is not None else ""
        return PluginError(f"{doing} the {self.noun} in {account} failed{stays}: {exc}{suffix}{fix}")


def number_problem(value: float) -> str | None:
    """A Kommo id as a program gives it: a positive whole number JSON carries exactly."""
    if 0 < value <= 2**53 - 1:
        return None
    return (
        f"must be the id of an object of the account (a whole number from 1 to 9007199254740991), got {GOT}"
    )
