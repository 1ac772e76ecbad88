"""A chat integration's vendor sets up its fleet of Kommo accounts with the generated Python SDK
(``pulumi_kommo``, from sdk/python), through one kommo provider: the accounts come from stack config,
each account's token from the provider's ``tokenCommand``, and for each account the program looks it
up (``get_account``), connects it to the vendor's custom chat channel, routes the channel's chats to a
pipeline with a lead source, and subscribes the bot's backend to the account's events. As written it
targets the public demo channel and the two demo accounts, ``demo`` and ``demo2``, of the emulator
(``kommo-chat emulator --demo``), whose vendor token service hands out their tokens.

The program runs inline through Pulumi's Automation API, so no Python language host is needed; the
Pulumi CLI and the kommo plugin (``pulumi-resource-kommo``) come from this repository's .tools/bin and
.venv/bin, and state goes to a local file backend::

    .venv/bin/python examples/python/kommo_example.py [up|preview|refresh|destroy] [--state DIR]
        [--stack NAME] [--base-url URL] [--api-base-url URL] [--config KEY=VALUE]...

``--state`` defaults to .pulumi-state/python-example in the repository, ``--base-url`` to the stack
config ``baseUrl``, else ``KOMMO_BASE_URL``, else http://127.0.0.1:8765; ``--api-base-url`` (the REST
API v4) to the stack config ``apiBaseUrl``, else ``KOMMO_API_BASE_URL``, else the Chat API's URL (the
emulator serves both). Config ``accounts`` (JSON: a list of account hosts) names the fleet, default
``["demo","demo2"]``; config ``tokenCommand`` (JSON: a program and its arguments) gives the tokens,
default ``kommo-chat token --url <baseUrl>/_emulator/vendor-tokens``, the emulator's vendor token
service. No token is ever an argument: the command prints it to the plugin. Config ``pipeline`` names
the sources' pipeline (left out: each account's main one), ``supportTitle`` and ``botEventsUrl`` change
what they say. The engine's progress goes to stderr; a JSON summary (changes and outputs) to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kommo as kommo
from pulumi import automation as auto

# The emulator's public demo channel: like moto's fake credentials, the secret only opens the emulator.
# For a real channel, read both from stack config: config.require("channelId"),
# config.require_secret("channelSecret") (set with `pulumi config set --secret channelSecret`).
DEMO_CHANNEL_ID = "f90ba33d-c9d9-44da-b76c-c349b0ecbe41"
DEMO_CHANNEL_SECRET = "0d3f6b1c9e2a47588a6e1b7c4d2f9a3e5b8c7d10"
DEMO_ACCOUNTS = ["demo", "demo2"]

REPO = Path(__file__).resolve().parent.parent.parent


def program() -> None:
    """The Pulumi program: one provider for the channel and every account, then each account's setup."""
    config = pulumi.Config()
    base_url = config.get("baseUrl") or os.environ.get("KOMMO_BASE_URL") or "http://127.0.0.1:8765"
    api_base_url = config.get("apiBaseUrl") or os.environ.get("KOMMO_API_BASE_URL") or base_url
    accounts = config.get_object("accounts", DEMO_ACCOUNTS)
    if not isinstance(accounts, list) or not accounts or not all(isinstance(a, str) for a in accounts):
        raise ValueError('config accounts: a JSON list of account hosts, such as ["acme.kommo.com","globex"]')
    # A vendor's own command asks its backend, which keeps and refreshes each account's OAuth token, for
    # the token of the account in $KOMMO_ACCOUNT: `kommo-chat token --url https://tokens.example.com/kommo`
    # (its key in KOMMO_TOKEN_SERVICE_KEY), or a program of its own that prints the token.
    token_command = config.get_object(
        "tokenCommand", ["kommo-chat", "token", "--url", f"{base_url}/_emulator/vendor-tokens"]
    )

    # One provider for the fleet: the channel (its id, secret and host) and where each account's token
    # comes from. Each object names its account. For real Kommo, drop api_base_url: each account's REST
    # API is then its own host (https://<account>.kommo.com).
    fleet = kommo.Provider(
        "fleet",
        channel_id=DEMO_CHANNEL_ID,
        channel_secret=pulumi.Output.secret(DEMO_CHANNEL_SECRET),
        base_url=base_url,
        token_command=token_command,
        api_base_url=api_base_url,
    )
    pulumi.export("accounts", {account: set_up_account(account, fleet, config) for account in accounts})


def set_up_account(account: str, fleet: kommo.Provider, config: pulumi.Config) -> dict[str, Any]:
    """One account of the fleet: looked up, connected, given a lead source and an events webhook."""
    webhook_base_url = config.get("webhookBaseUrl") or "https://bot.example.com/kommo/webhook"
    bot_events_url = config.get("botEventsUrl") or "https://bot.example.com/kommo/events"
    pipeline_name = config.get("pipeline")
    on_fleet = pulumi.InvokeOutputOptions(provider=fleet)
    with_fleet = pulumi.ResourceOptions(provider=fleet)

    # The account looked up with its own token: its amojo_id is what a connection's account_id takes.
    found = kommo.get_account_output(account=account, opts=on_fleet)
    support = kommo.ChatChannelConnection(
        f"{account}-support",
        account_id=found.amojo_id,
        title=config.get("supportTitle") or "Support bot",
        opts=with_fleet,
    )

    # Chats the bot creates with the source's external_id make leads in its pipeline: the one named by
    # config `pipeline`, else (pipeline_id left out) the account's main pipeline.
    pipeline_id = None
    if pipeline_name is not None:
        pipeline_id = kommo.get_pipelines_output(account=account, opts=on_fleet).apply(
            lambda listed: pipeline_named(listed.pipelines, pipeline_name, account)
        )
    source = kommo.Source(
        f"{account}-source",
        account=account,
        name="Support bot chats",
        external_id="support-bot",
        pipeline_id=pipeline_id,
        opts=with_fleet,
    )
    # The account's events the bot's backend wants, posted to its URL (each post names the account).
    events = kommo.Webhook(
        f"{account}-events",
        account=account,
        destination=bot_events_url,
        settings=["add_message", "status_lead"],
        opts=with_fleet,
    )
    return {
        "scopeId": support.scope_id,
        # Kommo posts the account's chat webhooks to the channel URL with the scope_id in its path.
        "webhookUrl": pulumi.Output.concat(webhook_base_url, "/", support.scope_id),
        # What the bot needs to create chats that land in the source's pipeline.
        "sourceId": source.source_id,
        "sourceExternalId": source.external_id,
        "pipelineId": source.pipeline_id,
        "webhookId": events.webhook_id,
    }


def pipeline_named(pipelines: Sequence[kommo.outputs.Pipeline], name: str, account: str) -> int:
    """The id of the account's pipeline called ``name``; the names it has when there is none."""
    for pipeline in pipelines:
        if pipeline.name == name:
            return pipeline.id
    names = ", ".join(repr(p.name) for p in pipelines)
    raise ValueError(f"config pipeline: account {account} has no pipeline named {name!r}; it has {names}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("operation", nargs="?", default="up", choices=["up", "preview", "refresh", "destroy"])
    parser.add_argument("--state", type=Path, default=REPO / ".pulumi-state" / "python-example")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--base-url")
    parser.add_argument("--api-base-url")
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
    if args.api_base_url:
        config["apiBaseUrl"] = args.api_base_url
    if config:
        stack.set_all_config({key: auto.ConfigValue(value) for key, value in config.items()})

    def on_output(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    try:
        if args.operation == "preview":
            changes = dict(stack.preview(on_output=on_output).change_summary)
        elif args.operation == "up":
            changes = dict(stack.up(on_output=on_output).summary.resource_changes or {})
        elif args.operation == "refresh":
            changes = dict(stack.refresh(on_output=on_output).summary.resource_changes or {})
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
