"""A Pulumi YAML project and its stack on a local file backend, as the end-to-end tests drive them.

The program is written as JSON (YAML's subset) into the project's ``Pulumi.yaml``; the stack runs under the
real CLI through ``stack_runner.LocalStack``, with the ``kommo`` plugin from ``.venv`` on ``PATH``. Secrets
go into stack config only through ``set_secret_config`` (piped, never a process argument).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from stack_runner import LocalStack

PASSPHRASE = "yaml-stack-e2e-passphrase"


class YamlStack:
    """A YAML project in a folder of its own and its stack on a local file backend."""

    def __init__(self, root: Path, *, name: str = "e2e", env: Mapping[str, str] | None = None) -> None:
        self.dir = root / "project"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_dir = root / "state"
        self.name = name
        self.env = dict(env or {})
        self._local: LocalStack | None = None

    def write(self, program: Mapping[str, Any]) -> None:
        (self.dir / "Pulumi.yaml").write_text(json.dumps(program, indent=2))

    @property
    def local(self) -> LocalStack:
        if self._local is None:
            self._local = LocalStack(
                self.name,
                None,
                state_dir=self.state_dir,
                passphrase=PASSPHRASE,
                work_dir=self.dir,
                env=self.env,
            )
        return self._local

    @property
    def stack(self) -> auto.Stack:
        return self.local.stack

    @property
    def started(self) -> bool:
        return self._local is not None

    def outputs(self) -> dict[str, Any]:
        return self.local.outputs()

    def resources(self, typ: str) -> list[dict[str, Any]]:
        deployment = self.stack.export_stack().deployment or {}
        return [r for r in deployment.get("resources", []) if r["type"] == typ]

    def stored_text(self) -> str:
        """Every file of the backend, and the stack's config file."""
        files = [p for p in self.state_dir.rglob("*") if p.is_file()] + list(self.dir.glob("Pulumi.*.yaml"))
        return "".join(p.read_text(errors="replace") for p in files)


@contextlib.contextmanager
def yaml_stacks(root: Path) -> Iterator[Callable[..., YamlStack]]:
    """Make stacks under ``root``; each one that ran is destroyed at the end, so none leaves objects in a
    shared emulator."""
    made: list[YamlStack] = []

    def make(program: Mapping[str, Any], **options: Any) -> YamlStack:
        stack = YamlStack(root / f"s{len(made)}", **options)
        stack.write(program)
        made.append(stack)
        return stack

    try:
        yield make
    finally:
        for stack in made:
            if stack.started:
                with contextlib.suppress(auto.CommandError):
                    stack.stack.destroy()
