"""A planned change in the schema's names, ready for a ``DiffResponse``.

The plan itself comes from a resource's table (:meth:`kommo_provider.model.Model.plan`); this module only
says, for each property the plan names, whether it was added, deleted or updated and whether it forces a
replacement, which is what the engine shows in a detailed diff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..model import Model, Plan


class DiffKind(Enum):
    ADD = "add"
    DELETE = "delete"
    UPDATE = "update"


@dataclass(frozen=True)
class Diff:
    """A planned change in the schema's names."""

    replaces: tuple[str, ...] = ()
    detailed: dict[str, tuple[DiffKind, bool]] = field(default_factory=dict)
    """Changed property -> (kind, whether it forces a replacement)."""
    delete_before_replace: bool = False
    stables: tuple[str, ...] = ()
    output_only: frozenset[str] = frozenset()
    """Changed properties that are outputs, not inputs (a rotated secret's fingerprint)."""

    @property
    def changes(self) -> bool:
        return bool(self.detailed)


def _kind(before: Any, after: Any) -> DiffKind:
    return DiffKind.ADD if before is None else DiffKind.DELETE if after is None else DiffKind.UPDATE


def detailed(
    model: Model, plan: Plan, before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, tuple[DiffKind, bool]]:
    """The plan as a detailed diff in the schema's names (core-named ``before`` and ``after``)."""
    return {
        model.field(name).schema_name: (_kind(before.get(name), after.get(name)), name in plan.replaces)
        for name in plan.replaces + plan.updates
    }


def diff(model: Model, before: Mapping[str, Any], after: Mapping[str, Any], *, stable: bool = True) -> Diff:
    """The table's plan from the stored object to the desired one, both under core names."""
    plan = model.plan(before, after)
    changes = detailed(model, plan, before, after)
    return Diff(
        replaces=tuple(model.field(n).schema_name for n in plan.replaces),
        detailed=changes,
        delete_before_replace=plan.delete_before_replace,
        stables=tuple(f.schema_name for f in model.fields if f.stable)
        if stable and not plan.replaces
        else (),
        output_only=frozenset(model.field(n).schema_name for n in plan.updates if model.field(n).output_only),
    )
