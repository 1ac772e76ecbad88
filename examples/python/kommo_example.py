"""Two Kommo accounts connected to a custom chat channel through an explicit kommo provider, with the
generated Python SDK (``pulumi_kommo``, from sdk/python). As written it targets the public demo
channel of the amojo emulator (``kommo-chat emulator --demo``), like examples/yaml.

The program runs inline through Pulumi's Automation API, so no Python language host is needed; the
Pulumi CLI and the kommo plugin (``pulumi-resource-kommo``) come from this repository's .tools/bin and
.venv/bin, and state goes to a local file backend::

    .venv/bin/python examples/python/kommo_example.py [up|preview|destroy] [--state DIR] [--stack NAME]
        [--base-url URL] [--config KEY=VALUE]...

``--state`` defaults to .pulumi-state/python-example in the repository, ``--base-url`` to the stack
config ``baseUrl``, else ``KOMMO_BASE_URL``, else http://127.0.0.1:8765. The engine's progress goes
to stderr; a JSON summary (changes and outputs) to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pulumi
import pulumi_kommo as kommo
from pulumi import automation as auto

# The emulator's public demo channel: like moto's fake credentials, its secret only opens the emulator.
# For a real channel, read them from stack config: config.require("channelId"),
# config.require_secret("channelSecret").
DEMO_CHANNEL_ID = "f90ba33d-c9d9-44da-b76c-c349b0ecbe41"
DEMO_CHANNEL_SECRET = "0d3f6b1c9e2a47588a6e1b7c4d2f9a3e5b8c7d10"

REPO = Path(__file__).resolve().parent.parent.parent


def program() -> None:
    """The Pulumi program: a provider for the channel, two connections, and what consumes their scope ids."""
    config = pulumi.Config()
    base_url = config.get("baseUrl") or os.environ.get("KOMMO_BASE_URL") or "http://127.0.0.1:8765"
    webhook_base_url = config.get("webhookBaseUrl") or "https://bot.example.com/kommo/webhook"

    # One provider per channel: its id, secret and host.
    demo_channel = kommo.Provider(
        "demoChannel",
        channel_id=DEMO_CHANNEL_ID,
        channel_secret=pulumi.Output.secret(DEMO_CHANNEL_SECRET),
        base_url=base_url,
    )
    support = kommo.ChatChannelConnection(
        "support",
        account_id="3b5e8f2a-7c14-4d9e-a6b1-92f0c8d4e713",
        title=config.get("supportTitle") or "Support bot",
        opts=pulumi.ResourceOptions(provider=demo_channel),
    )
    sales = kommo.ChatChannelConnection(
        "sales",
        account_id="c81d4e2f-5a96-4b37-8e0c-1f7a2d9b6e54",
        title="Sales bot",
        reconnect_triggers=["installed 2026-11-25"],
        opts=pulumi.ResourceOptions(provider=demo_channel),
    )

    pulumi.export("supportScopeId", support.scope_id)
    pulumi.export("salesScopeId", sales.scope_id)
    # Kommo posts the account's chat webhooks to the channel URL with the scope_id in its path.
    pulumi.export("supportWebhookUrl", pulumi.Output.concat(webhook_base_url, "/", support.scope_id))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("operation", nargs="?", default="up", choices=["up", "preview", "destroy"])
    parser.add_argument("--state", type=Path, default=REPO / ".pulumi-state" / "python-example")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--base-url")
    parser.add_argument("-c", "--config", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    for pair in args.config:
        if "=" not in pair or pair.startswith("="):
            parser.error(f"--config takes KEY=VALUE, not {pair!r}")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    state: Path = args.state.resolve()
    backend, work_dir = state / "backend", state / "workspace"  # workspace: Pulumi.<stack>.yaml
    backend.mkdir(parents=True, exist_ok=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    tools = REPO / ".tools"
    command = auto.PulumiCommand(root=str(tools)) if (tools / "bin" / "pulumi").exists() else None
    env = {
        "PULUMI_BACKEND_URL": f"file://{backend}",
        "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "kommo-demo"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
        # The CLI finds the kommo plugin as pulumi-resource-kommo on PATH, beside this interpreter.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    stack = auto.create_or_select_stack(
        stack_name=args.stack,
        project_name="kommo-python-example",
        program=program,
        opts=auto.LocalWorkspaceOptions(work_dir=str(work_dir), env_vars=env, pulumi_command=command),
    )
    config = dict(pair.split("=", 1) for pair in args.config)
    if args.base_url:
        config["baseUrl"] = args.base_url
    if config:
        stack.set_all_config({key: auto.ConfigValue(value) for key, value in config.items()})

    def on_output(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    try:
        if args.operation == "preview":
            changes = dict(stack.preview(on_output=on_output).change_summary)
        elif args.operation == "up":
            changes = dict(stack.up(on_output=on_output).summary.resource_changes or {})
        else:
            changes = dict(stack.destroy(on_output=on_output).summary.resource_changes or {})
    except auto.CommandError as err:
        print(err, file=sys.stderr)
        return 1
    outputs = {k: "[secret]" if v.secret else v.value for k, v in stack.outputs().items()}
    print(json.dumps({"operation": args.operation, "changes": changes, "outputs": outputs}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
