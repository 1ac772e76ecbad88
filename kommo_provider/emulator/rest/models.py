"""The Kommo REST API v4 account objects: accounts, pipelines, statuses, grants, and request inputs.

Plain dataclasses with ``to_dict()`` and no HTTP; :mod:`.accounts` holds them. The objects an
integration manages are declared one module each (:mod:`.sources`, :mod:`.webhooks`, and the others
:mod:`.registry` lists) on the generic :mod:`.collection`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final

DEFAULT_INTEGRATION_ID: Final = "5c0d7a3e-8b41-4f26-9e1d-a47c2b9f6e08"
"""The integration a token belongs to when none is named (a made-up id, like the demo ones)."""

DEFAULT_PIPELINES: Final = ("Sales pipeline",)
WON_STATUS_ID: Final = 142
LOST_STATUS_ID: Final = 143


class UnknownObjectError(LookupError):
    """A configuration call or out-of-band change named an object the emulator does not have."""


@dataclass(frozen=True)
class AccountSpec:
    """An account to serve: its subdomain, and optionally its token, ids, name and pipelines.

    ``token`` is the long-lived token (secret: not in the repr) of integration ``integration_id``;
    without one, add tokens later with ``add_token`` or ``mint_token`` of the backend.
    ``amojo_id`` defaults to a UUID derived from the subdomain, ``id`` to the next free number,
    ``name`` to the subdomain, ``user_id`` (the admin user the token acts as) to the next free
    number. The first of ``pipelines`` is the main one.
    """

    subdomain: str
    token: str | None = field(default=None, repr=False)
    amojo_id: str | None = None
    name: str | None = None
    id: int | None = None
    pipelines: tuple[str, ...] = DEFAULT_PIPELINES
    integration_id: str = DEFAULT_INTEGRATION_ID
    user_id: int | None = None


@dataclass
class Status:
    """A lead status of a pipeline; 142 (won) and 143 (lost) exist in every pipeline, as in Kommo."""

    id: int
    name: str
    sort: int
    type: int
    color: str
    is_editable: bool
    pipeline_id: int
    account_id: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Pipeline:
    """A leads pipeline with its statuses; exactly one per account ``is_main``."""

    id: int
    name: str
    sort: int
    is_main: bool
    account_id: int
    statuses: list[Status]
    is_archive: bool = False
    is_unsorted_on: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The API's fields; statuses under ``statuses`` (the responses move them to ``_embedded``)."""
        return asdict(self)


@dataclass
class Account:
    """A Kommo account: numeric id, subdomain, amojo_id (the id amojo's connect takes), pipelines."""

    id: int
    name: str
    subdomain: str
    amojo_id: str
    user_id: int
    created_at: int
    pipelines: list[Pipeline]

    def main_pipeline(self) -> Pipeline:
        return next(p for p in self.pipelines if p.is_main)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, pipelines included (never a token: accounts do not hold them)."""
        return asdict(self)


@dataclass(frozen=True)
class Grant:
    """What one token opens: one account, as one integration, until ``expires_at`` (Unix seconds).

    ``revoked`` once a newer token of the same account and integration replaced it (a rotation).
    """

    account_id: int
    integration_id: str
    user_id: int
    expires_at: int
    revoked: bool = False


@dataclass(frozen=True)
class ObjectInput:
    """One object of a create or update call, its field shapes already checked.

    ``fields`` holds only the fields given; ``path`` prefixes error paths (``"0."`` for the first item
    of an array body, ``""`` for an object body); ``object_id`` is set for updates.
    """

    request_id: str
    path: str
    fields: Mapping[str, Any]
    object_id: int | None = None


SourceInput = ObjectInput
"""The name sources' callers used before every object type shared :class:`ObjectInput`."""
