"""``kommo:index:Source``, a lead source of an account (REST API v4 ``/api/v4/sources``): the whole resource.

A source routes a chat channel's chats to a pipeline: a chat created with the source's ``external_id``
lands in the source's pipeline. Unlike an amojo connection, Kommo reads a source back, so refresh sees
a source renamed, moved or deleted out of band, and ``pulumi import`` reads the whole source by its id.
A source belongs to the integration whose token created it; another integration's token neither sees
nor manages it. Kommo keeps ``external_id`` unique per integration: it is how a source whose create
answer was lost is found again.
"""

from __future__ import annotations

from typing import ClassVar, Final

from ..model import GOT, Change, Field, Kind, Model
from ..validation import text_problem
from .rest_object import ACCOUNT, Endpoint, RestObject, number_problem

# The emulator keeps its own copy of these limits (kommo_provider/emulator/rest/validation.py): it is
# Kommo, and does not read the provider's rules.
EXTERNAL_ID_MAX: Final = 40
ORIGIN_CODE_MAX: Final = 20
NAME_MAX: Final = 255
PAGE_TEXT_MAX: Final = 255


def name_problem(value: str) -> str | None:
    return text_problem(value, limit=NAME_MAX)


def external_id_problem(value: str) -> str | None:
    """Kommo's create-chat call takes it as ``source.external_id``: 1 to 40 printable ASCII characters."""
    if not 1 <= len(value) <= EXTERNAL_ID_MAX:
        return f"must be 1 to {EXTERNAL_ID_MAX} characters, got {len(value)} characters"
    if not all(" " <= char <= "~" for char in value):
        return f"must be printable ASCII characters only (space to '~'), got {GOT}"
    return None


def origin_code_problem(value: str) -> str | None:
    if not 1 <= len(value) <= ORIGIN_CODE_MAX:
        return f"must be 1 to {ORIGIN_CODE_MAX} characters, got {len(value)} characters"
    if value.isdigit():
        return f"must not be only digits (it is a channel code, such as 'my_chat'), got {GOT}"
    if any(not char.isprintable() or char.isspace() for char in value):
        return f"must be printable characters without spaces, got {GOT}"
    return None


def pipeline_id_problem(value: float) -> str | None:
    if number_problem(value) is None:
        return None
    return f"must be a pipeline's id (a whole number from 1 to 9007199254740991), got {GOT}"


def page_text_problem(value: str) -> str | None:
    return text_problem(value, limit=PAGE_TEXT_MAX)


def service_type_problem(value: str) -> str | None:
    return (
        None
        if value == "whatsapp"
        else f"must be 'whatsapp' (the one service type Kommo documents), got {GOT}"
    )


SERVICE_PARAMS: Final = Model(
    "kommo:index:SourceServiceParams",
    "Settings of a WhatsApp service of a source.",
    (
        Field("waba", Kind.BOOLEAN, "Whether the channel is the WhatsApp Business API."),
        Field(
            "is_supports_list_message",
            Kind.BOOLEAN,
            "Whether the channel supports WhatsApp list messages.",
        ),
    ),
)
SERVICE_PAGE: Final = Model(
    "kommo:index:SourceServicePage",
    "A page (a phone number or account) a service of a source answers on.",
    (
        Field(
            "name", Kind.STRING, "The page's name, as shown in Kommo.", required=True, check=page_text_problem
        ),
        Field("id", Kind.STRING, "The page's id in the channel.", required=True, check=page_text_problem),
        Field(
            "link",
            Kind.STRING,
            "What the page links to (a phone number, for WhatsApp).",
            required=True,
            check=page_text_problem,
        ),
    ),
)
SERVICE: Final = Model(
    "kommo:index:SourceService",
    "A service a source offers, such as a WhatsApp number for the 'write first' button.",
    (
        Field(
            "type", Kind.STRING, "The service's type: `whatsapp`.", required=True, check=service_type_problem
        ),
        Field("params", Kind.OBJECT, "The service's settings.", item=SERVICE_PARAMS),
        Field("pages", Kind.OBJECT_LIST, "The pages the service answers on.", item=SERVICE_PAGE),
    ),
)

SOURCE: Final = Model(
    "kommo:index:Source",
    "A lead source of the account (REST API v4 `/api/v4/sources`): a chat created with its `externalId` "
    "lands in its pipeline. Kommo reads a source back, so `refresh` shows a source renamed, moved or "
    "deleted out of band, and the next `up` puts it back.\n\n"
    "The source belongs to the integration whose access token created it. Kommo allows 100 sources per "
    "integration, and its widget must declare the `lead_sources` location.\n\n"
    "## Import\n\nAn existing source is imported by its account and numeric id, and read whole:\n\n"
    "```sh\n$ pulumi import kommo:index:Source chats example.kommo.com/123456\n```",
    (
        ACCOUNT,
        Field(
            "name",
            Kind.STRING,
            "The source's name, shown in the lead card.",
            required=True,
            check=name_problem,
            api=True,
        ),
        Field(
            "external_id",
            Kind.STRING,
            "The source's id in your integration, at most 40 printable ASCII characters, unique per "
            "integration: amojo's create-chat call takes it as `source.external_id`.",
            required=True,
            check=external_id_problem,
            api=True,
        ),
        Field(
            "pipeline_id",
            Kind.INTEGER,
            "The pipeline whose leads the source's chats make (an id from `kommo.getPipelines()`). Left "
            "out: Kommo puts the source in the main pipeline, and later changes are kept.",
            change=Change.KEEP,
            check=pipeline_id_problem,
            api=True,
            output_description="The pipeline of the source's leads, as Kommo has it.",
        ),
        Field(
            "default",
            Kind.BOOLEAN,
            "Whether this is the integration's default source. Left out: keep what Kommo has.",
            change=Change.KEEP,
            api=True,
        ),
        Field(
            "origin_code",
            Kind.STRING,
            "The main channel code of the source, at most 20 characters and not only digits. Left out: "
            "keep what Kommo has.",
            change=Change.KEEP,
            check=origin_code_problem,
            api=True,
        ),
        Field(
            "services",
            Kind.OBJECT_LIST,
            "The services the source offers (a WhatsApp number for the 'write first' button). Left out: "
            "keep what Kommo has.",
            change=Change.KEEP,
            item=SERVICE,
            api=True,
        ),
        Field(
            "source_id",
            Kind.INTEGER,
            "Kommo's numeric id of the source; the resource's id is `<account>/<sourceId>`.",
            output_only=True,
            stable=True,
        ),
    ),
)


class Source(RestObject):
    """Create POSTs, update PATCHes, delete DELETEs, refresh GETs by id; Kommo refuses a second
    ``external_id``, so no lookup is needed before a create."""

    model: ClassVar[Model] = SOURCE
    endpoint: ClassVar[Endpoint] = Endpoint("/sources", "sources", natural_key="external_id")
    number_field: ClassVar[str] = "source_id"
    noun: ClassVar[str] = "source"


RESOURCE: Final = Source()
