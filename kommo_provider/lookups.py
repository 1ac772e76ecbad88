"""Read-only lookups of the account (REST API v4), as Pulumi functions: ``getAccount``, ``getPipelines``.

A program looks the account up instead of copying ids by hand: ``getAccount`` answers the ``amojoId``
that a chat connection's ``accountId`` takes, ``getPipelines`` the pipelines a source can name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .model import Field, Kind, Model

if TYPE_CHECKING:  # the client pulls in requests: imported where a call is made
    from .rest import RestApiClient

GET_ACCOUNT: Final = Model(
    "kommo:index:getAccount",
    "The Kommo account the provider's access token belongs to (`GET /api/v4/account?with=amojo_id`): its "
    "id, name, subdomain and the `amojoId` a chat connection's `accountId` takes.",
    (
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
    "Every leads pipeline of the account (`GET /api/v4/leads/pipelines`), so a source can name its "
    "pipeline by name in the program.",
    (
        Field("pipelines", Kind.OBJECT_LIST, "The account's pipelines.", output_only=True, item=PIPELINE),
        Field("main_pipeline_id", Kind.INTEGER, "The id of the account's main pipeline.", output_only=True),
    ),
)


def get_account(client: RestApiClient) -> dict[str, Any]:
    account = client.get_account()
    return {f.name: account.get(f.name) for f in GET_ACCOUNT.fields}


def get_pipelines(client: RestApiClient) -> dict[str, Any]:
    pipelines = [{f.name: p.get(f.name) for f in PIPELINE.fields} for p in client.list_pipelines()]
    main = next((p["id"] for p in pipelines if p.get("is_main")), None)
    return {"pipelines": pipelines, "main_pipeline_id": main}
