"""Run this project's stacks through the Pulumi Automation API on a local file backend.

Used by the demo, the end-to-end tests and the benchmarks, so it lives at the repository root beside
the example program and is not part of the installed package. Python programs run inline (in this
Python process), so the CLI needs no Python language host; the dynamic provider runs in the process
the CLI starts through ``pulumi-resource-pulumi-python``, with this interpreter (``PULUMI_PYTHON_CMD``).
A program in a folder (such as a Pulumi YAML project) runs through its language host, and the
``kommo`` plugin is found as ``pulumi-resource-kommo`` beside this interpreter.
Secrets never go through the Automation API's ``set_config``: it passes values as process arguments.
"""

from __future__ import annotations

import base64
import json
import os
import runpy
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import PROVIDER_KEY, serialize_provider
from pulumi.runtime import rpc

PROJECT_DIR = Path(__file__).resolve().parent
"""The repository root: Pulumi.yaml, the example ``__main__.py`` and ``.tools/bin``."""
PROJECT_NAME = "kommo-provider"


class PulumiNotFoundError(RuntimeError):
    """No Pulumi CLI in .tools/bin or on PATH."""


def pulumi_bin_dir(project_dir: Path = PROJECT_DIR) -> Path:
    """The folder holding ``pulumi`` and ``pulumi-resource-pulumi-python``: .tools/bin, else PATH."""
    tools = project_dir / ".tools" / "bin"
    if (tools / "pulumi").exists():
        return tools
    found = shutil.which("pulumi")
    if found:
        return Path(found).resolve().parent
    raise PulumiNotFoundError(
        "no Pulumi CLI found: run scripts/get-pulumi.sh (it builds one from Pulumi's Go module "
        "when Go is available) or install it from https://www.pulumi.com/docs/iac/download-install/"
    )


def backend_env(state_dir: Path, passphrase: str) -> dict[str, str]:
    """Environment for a local file backend with passphrase-encrypted secrets, offline."""
    state_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PULUMI_BACKEND_URL": f"file://{state_dir.resolve()}",
        "PULUMI_CONFIG_PASSPHRASE": passphrase,
        "PULUMI_HOME": str((state_dir / "home").resolve()),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
        # The dynamic provider process runs with the interpreter that runs this program, and imports
        # the example's own modules (bot_settings.py) from the repository root, wherever the stack's
        # work_dir is: its resources' providers are pickled by reference to them.
        "PULUMI_PYTHON_CMD": sys.executable,
        "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]),
        # The kommo plugin (pulumi-resource-kommo) is installed beside that interpreter.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }


def example_program(project_dir: Path = PROJECT_DIR) -> Callable[[], None]:
    """The example stack (``__main__.py`` at the repository root) as an inline program.

    The folder goes on ``sys.path`` first, as ``python __main__.py`` would put it, so the program's
    own modules (``bot_settings``) import as top-level modules, as the provider process imports them.
    """
    main = project_dir / "__main__.py"

    def program() -> None:
        if str(project_dir) not in sys.path:
            sys.path.insert(0, str(project_dir))
        runpy.run_path(str(main), run_name="__main__")

    return program


class LocalStack:
    """A stack on a local file backend, with the CLI from :func:`pulumi_bin_dir`."""

    def __init__(
        self,
        stack_name: str,
        program: Callable[[], None] | None,
        *,
        state_dir: Path,
        passphrase: str,
        work_dir: Path = PROJECT_DIR,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """``work_dir`` holds the stack's config file (``Pulumi.<stack>.yaml``) and is the provider
        process's working directory; a folder without ``Pulumi.yaml`` gets one for this project.
        With ``program=None`` the program is the project in ``work_dir`` (its ``Pulumi.yaml``)."""
        self.bin_dir = pulumi_bin_dir()
        self.env = {**backend_env(state_dir, passphrase), **(env or {})}
        command = auto.PulumiCommand(root=str(self.bin_dir.parent))
        options = auto.LocalWorkspaceOptions(
            work_dir=str(work_dir),
            env_vars=self.env,
            pulumi_command=command,
            pulumi_home=self.env["PULUMI_HOME"],
        )
        if program is None:
            self.stack = auto.create_or_select_stack(
                stack_name=stack_name, work_dir=str(work_dir), opts=options
            )
        else:
            self.stack = auto.create_or_select_stack(
                stack_name=stack_name, project_name=PROJECT_NAME, program=program, opts=options
            )

    @property
    def name(self) -> str:
        return self.stack.name

    def set_config(self, values: Mapping[str, str], *, path: bool = False) -> None:
        """Plain (non-secret) config values; ``path=True`` reads keys like ``kommo:accounts[0].name``."""
        self.stack.set_all_config({k: auto.ConfigValue(v) for k, v in values.items()}, path=path)

    def set_secret_config(self, key: str, value: str) -> None:
        """A secret config value, passed to ``pulumi config set --secret`` on stdin, never as an argument."""
        self.run_cli(["config", "set", "--secret", key, "--stack", self.name], stdin=value)

    def run_cli(self, args: list[str], *, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the CLI on this stack's workspace; raises with its stderr on failure."""
        env = {**os.environ, **self.env, "PATH": f"{self.bin_dir}{os.pathsep}{self.env['PATH']}"}
        done = subprocess.run(
            [str(self.bin_dir / "pulumi"), *args, "--non-interactive"],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=self.stack.workspace.work_dir,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pulumi {args[0]} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def outputs(self) -> dict[str, object]:
        return {k: v.value for k, v in self.stack.outputs().items()}

    def repoint_moved_provider(self, resource_type: str, provider: ResourceProvider, moved_from: str) -> int:
        """Re-pickle the dynamic provider of every ``resource_type`` resource whose state still names
        ``moved_from`` (the module its class lived in when the state was written); returns how many.

        Dynamic resources keep their provider pickled by reference (module and class name) in state,
        and the provider process unpickles that copy for delete, read and unchanged resources. Once
        the class has moved, that fails with ``No module named ...`` until the state names the new
        module. The check reads the stack's export in memory; the rewrite imports the provider as a
        plaintext secret, which the CLI encrypts again. Other resources are left as they are.
        """
        shown = json.loads(self.run_cli(["stack", "export", "--show-secrets", "--stack", self.name]).stdout)
        stale = {
            r["urn"]
            for r in (shown.get("deployment") or {}).get("resources", [])
            if r["type"] == resource_type and moved_from.encode() in _pickled_provider(r.get("outputs", {}))
        }
        if not stale:
            return 0
        exported = self.stack.export_stack()
        pickled = {
            rpc._special_sig_key: rpc._special_secret_sig,
            "plaintext": json.dumps(serialize_provider(provider)),
        }
        for resource in (exported.deployment or {}).get("resources", []):
            if resource["urn"] in stale:
                for part in ("inputs", "outputs"):
                    if PROVIDER_KEY in resource.get(part, {}):
                        resource[part][PROVIDER_KEY] = pickled
        self.stack.import_stack(exported)
        return len(stale)


def _pickled_provider(properties: Mapping[str, Any]) -> bytes:
    """The pickle bytes of a dynamic resource's ``__provider`` from a ``--show-secrets`` export."""
    value = properties.get(PROVIDER_KEY)
    if isinstance(value, dict) and "plaintext" in value:  # a secret, shown
        value = json.loads(value["plaintext"])
    return base64.b64decode(value) if isinstance(value, str) else b""
