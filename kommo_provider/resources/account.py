"""Read-only lookups of an account (REST API v4), as Pulumi functions: ``getAccount``, ``getPipelines``.

A program looks the account up instead of copying ids by hand: ``getAccount`` answers the ``amojoId``
that a chat connection's ``accountId`` takes, ``getPipelines`` the pipelines a source can name. Both
take the ``account`` to look up (the provider's default account when left out), so one provider looks
up every account of a fleet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar, Final

from ..configuration import REST
from ..exceptions import ApiError, PluginError
from ..model import Field, Kind, Model
from .base import Context, Function
from .rest_object import ACCOUNT, account_problems, token_fix

LOOKED_UP: Final = replace(
    ACCOUNT,
    input_only=True,
    stable=False,
    description="The account to look up, as its host: `example.kommo.com`, or a bare `example`. Left out: "
    "the provider's `accountDomain`.",
)

GET_ACCOUNT: Final = Model(
    "kommo:index:getAccount",
    "A Kommo account (`GET /api/v4/account?with=amojo_id`): its id, name, subdomain and the `amojoId` a "
    "chat connection's `accountId` takes.",
    (
        LOOKED_UP,
        Field("id", Kind.INTEGER, "The account's numeric id.", output_only=True),
        Field("name", Kind.STRING, "The account's name.", output_only=True),
        Field(
            "subdomain",
            Kind.STRING,
            "The account's subdomain (`example` of example.kommo.com).",
            output_only=True,
        ),
        Field(
            "amojo_id",
            Kind.STRING,
            "The account's id in the Chat API (amojo): what `ChatChannelConnection`'s `accountId` takes.",
            output_only=True,
        ),
    ),
)

PIPELINE: Final = Model(
    "kommo:index:Pipeline",
    "A leads pipeline of the account.",
    (
        Field("id", Kind.INTEGER, "The pipeline's id, as a source's `pipelineId` takes it.", required=True),
        Field("name", Kind.STRING, "The pipeline's name.", required=True),
        Field("is_main", Kind.BOOLEAN, "Whether it is the account's main pipeline.", required=True),
        Field("is_archive", Kind.BOOLEAN, "Whether it is archived.", required=True),
        Field("sort", Kind.INTEGER, "The pipeline's place in the account's list.", required=True),
    ),
)

GET_PIPELINES: Final = Model(
    "kommo:index:getPipelines",
    "Every leads pipeline of an account (`GET /api/v4/leads/pipelines`), so a source can name its "
    "pipeline by name in the program.",
    (
        LOOKED_UP,
        Field("pipelines", Kind.OBJECT_LIST, "The account's pipelines.", output_only=True, item=PIPELINE),
        Field("main_pipeline_id", Kind.INTEGER, "The id of the account's main pipeline.", output_only=True),
    ),
)


class Lookup(Function):
    """A read of one account: which account, and that the provider can reach it."""

    group: ClassVar[str] = REST

    def account(self, ctx: Context, args: Mapping[str, Any]) -> str | None:
        found = args.get("account")
        return found if isinstance(found, str) else ctx.default_account

    def problems(self, ctx: Context, args: Mapping[str, Any]) -> list[tuple[str, str]]:
        return account_problems(ctx, self.account(ctx, args))

    def call(self, ctx: Context, args: Mapping[str, Any]) -> dict[str, Any]:
        account = self.account(ctx, args)
        assert account is not None  # problems() refused it
        try:
            return self.read(ctx, account)
        except ApiError as exc:
            raise PluginError(
                f"{self.model.name} of {account} failed: {exc}{token_fix(ctx, account, exc)}"
            ) from None

    def read(self, ctx: Context, account: str) -> dict[str, Any]:
        raise NotImplementedError


class GetAccount(Lookup):
    model: ClassVar[Model] = GET_ACCOUNT

    def read(self, ctx: Context, account: str) -> dict[str, Any]:
        found = ctx.rest(account).get("/account", "account", params={"with": "amojo_id"}) or {}
        return {f.name: found.get(f.name) for f in GET_ACCOUNT.outputs}


class GetPipelines(Lookup):
    model: ClassVar[Model] = GET_PIPELINES

    def read(self, ctx: Context, account: str) -> dict[str, Any]:
        listed = ctx.rest(account).get_list("/leads/pipelines", "pipelines")
        pipelines = [{f.name: p.get(f.name) for f in PIPELINE.fields} for p in listed]
        main = next((p["id"] for p in pipelines if p.get("is_main")), None)
        return {"pipelines": pipelines, "main_pipeline_id": main}


FUNCTIONS: Final = (GetAccount(), GetPipelines())
