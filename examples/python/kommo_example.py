"""A Kommo integration's setup for one account with the generated Python SDK (``pulumi_kommo``, from
sdk/python), through explicit kommo providers: look the account up, connect it to a custom chat
channel (and a second account by its amojo_id), route the channel's chats to a pipeline with a lead
source, and subscribe the bot's backend to the account's events. As written it targets the public demo
channel and demo account of the emulator (``kommo-chat emulator --demo``), like examples/yaml.

The program runs inline through Pulumi's Automation API, so no Python language host is needed; the
Pulumi CLI and the kommo plugin (``pulumi-resource-kommo``) come from this repository's .tools/bin and
.venv/bin, and state goes to a local file backend::

    .venv/bin/python examples/python/kommo_example.py [up|preview|refresh|destroy] [--state DIR]
        [--stack NAME] [--base-url URL] [--api-base-url URL] [--config KEY=VALUE]...

``--state`` defaults to .pulumi-state/python-example in the repository, ``--base-url`` to the stack
config ``baseUrl``, else ``KOMMO_BASE_URL``, else http://127.0.0.1:8765; ``--api-base-url`` (the REST
API v4) to the stack config ``apiBaseUrl``, else ``KOMMO_API_BASE_URL``, else the Chat API's URL (the
emulator serves both). The access token comes from ``KOMMO_ACCESS_TOKEN``, else it is the emulator's
public demo token; it is never an argument. Config ``pipeline`` names the source's pipeline (left out:
the main one), ``supportTitle`` and ``botEventsUrl`` change what they say. The engine's progress goes
to stderr; a JSON summary (changes and outputs) to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pulumi
import pulumi_kommo as kommo
from pulumi import automation as auto

# The emulator's public demo channel and demo account: like moto's fake credentials, the secret and the
# token only open the emulator. For a real channel, read them from stack config:
# config.require("channelId"), config.require_secret("channelSecret"); for a real account, set
# account_domain (its subdomain) instead of api_base_url, and the account's long-lived token in
# KOMMO_ACCESS_TOKEN or in secret config (config.require_secret("accessToken")).
DEMO_CHANNEL_ID = "f90ba33d-c9d9-44da-b76c-c349b0ecbe41"
DEMO_CHANNEL_SECRET = "0d3f6b1c9e2a47588a6e1b7c4d2f9a3e5b8c7d10"
DEMO_ACCOUNT_DOMAIN = "demo"
DEMO_ACCESS_TOKEN = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJlMWE3YzNmNS0yYjlkLTRjNmUtOGYwYS01ZDNiN2U5YzF"
    "hMjQiLCJqdGkiOiIwZDNmNmIxYzllMmE0NzU4OGE2ZTFiN2M0ZDJmOWEzZSIsImlhdCI6MTc2NzIyNTYwMCwibmJmIjo"
    "xNzY3MjI1NjAwLCJleHAiOjQxMDI0NDQ4MDAsInN1YiI6IjgwMDAwMDEiLCJncmFudF90eXBlIjoiIiwiYWNjb3VudF9"
    "pZCI6MzAwMDAwMDEsImJhc2VfZG9tYWluIjoia29tbW8uY29tIiwidmVyc2lvbiI6Miwic2NvcGVzIjpbImNybSIsImZ"
    "pbGVzIiwiZmlsZXNfZGVsZXRlIiwibm90aWZpY2F0aW9ucyIsInB1c2hfbm90aWZpY2F0aW9ucyJdfQ.9kFzT_ri6lJv"
    "BXHP2FJiZN3vVcB0BaJm61LdmVfAcwE"
)

REPO = Path(__file__).resolve().parent.parent.parent


def program() -> None:
    """The Pulumi program: a provider for the channel and one for the account, the account's
    connection, its lead source and events webhook, and what the bot needs from them."""
    config = pulumi.Config()
    base_url = config.get("baseUrl") or os.environ.get("KOMMO_BASE_URL") or "http://127.0.0.1:8765"
    api_base_url = config.get("apiBaseUrl") or os.environ.get("KOMMO_API_BASE_URL") or base_url
    webhook_base_url = config.get("webhookBaseUrl") or "https://bot.example.com/kommo/webhook"
    bot_events_url = config.get("botEventsUrl") or "https://bot.example.com/kommo/events"
    pipeline_name = config.get("pipeline")

    # One provider per channel: its id, secret and host.
    demo_channel = kommo.Provider(
        "demoChannel",
        channel_id=DEMO_CHANNEL_ID,
        channel_secret=pulumi.Output.secret(DEMO_CHANNEL_SECRET),
        base_url=base_url,
    )
    # One provider per account for the REST API v4: its host and a long-lived token (a secret).
    demo_account = kommo.Provider(
        "demoAccount",
        account_domain=DEMO_ACCOUNT_DOMAIN,
        access_token=pulumi.Output.secret(os.environ.get("KOMMO_ACCESS_TOKEN") or DEMO_ACCESS_TOKEN),
        api_base_url=api_base_url,
    )
    on_account = pulumi.InvokeOutputOptions(provider=demo_account)

    # The account looked up by its token: its amojo_id is what a connection's account_id takes.
    account = kommo.get_account_output(opts=on_account)
    support = kommo.ChatChannelConnection(
        "support",
        account_id=account.amojo_id,
        title=config.get("supportTitle") or "Support bot",
        opts=pulumi.ResourceOptions(provider=demo_channel),
    )
    # An account without a token in this stack: its amojo_id, written down.
    sales = kommo.ChatChannelConnection(
        "sales",
        account_id="c81d4e2f-5a96-4b37-8e0c-1f7a2d9b6e54",
        title="Sales bot",
        reconnect_triggers=["installed 2026-11-25"],
        opts=pulumi.ResourceOptions(provider=demo_channel),
    )

    # Chats the bot creates with the source's external_id make leads in its pipeline: the one named by
    # config `pipeline`, else (pipeline_id left out) the account's main pipeline.
    pipeline_id = None
    if pipeline_name is not None:
        pipeline_id = kommo.get_pipelines_output(opts=on_account).apply(
            lambda found: pipeline_named(found.pipelines, pipeline_name)
        )
    support_source = kommo.Source(
        "supportSource",
        name="Support bot chats",
        external_id="support-bot",
        pipeline_id=pipeline_id,
        opts=pulumi.ResourceOptions(provider=demo_account),
    )
    # The account's events the bot's backend wants, posted to its URL.
    bot_events = kommo.Webhook(
        "botEvents",
        destination=bot_events_url,
        settings=["add_message", "status_lead"],
        opts=pulumi.ResourceOptions(provider=demo_account),
    )

    pulumi.export("supportScopeId", support.scope_id)
    pulumi.export("salesScopeId", sales.scope_id)
    # Kommo posts the account's chat webhooks to the channel URL with the scope_id in its path.
    pulumi.export("supportWebhookUrl", pulumi.Output.concat(webhook_base_url, "/", support.scope_id))
    # What the bot needs to create chats that land in the source's pipeline, and where events arrive.
    pulumi.export("supportSourceExternalId", support_source.external_id)
    pulumi.export("supportSourceId", support_source.source_id)
    pulumi.export("supportPipelineId", support_source.pipeline_id)
    pulumi.export("botEventsUrl", bot_events.destination)


def pipeline_named(pipelines: Sequence[kommo.outputs.Pipeline], name: str) -> int:
    """The id of the account's pipeline called ``name``; the names it has when there is none."""
    for pipeline in pipelines:
        if pipeline.name == name:
            return pipeline.id
    names = ", ".join(repr(p.name) for p in pipelines)
    raise ValueError(f"config pipeline: the account has no pipeline named {name!r}; it has {names}")


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
