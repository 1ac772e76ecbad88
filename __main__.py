"""Example stack: connect Kommo accounts to a chat channel and hand each scope_id to the bot service.

Stack config (all under ``kommo:``):

* ``channelId``, ``channelSecret`` (``--secret``): the channel Kommo registered for the integration;
* ``accounts``: a list of ``{"accountId": ..., "name": ..., "title": ..., "reconnectTriggers": [...]}``
  (or a single ``accountId``);
* ``baseUrl``: ``kommo`` (default), ``amocrm.ru``, ``amocrm.com`` or a URL;
* ``webhookBaseUrl``: where the bot service receives Kommo's chat webhooks;
* ``botSettingsPath``: the settings file written for the bot service (default
  ``.bot-settings/<stack>.json`` next to this file; a relative path is taken from this folder too).
  The stack exports its absolute path as ``bot_settings_file``, so another stack can open it.

With no ``kommo:channelId`` set, the stack targets the embedded amojo emulator's demo channel
(``kommo-chat emulator --demo``), so it runs on any machine without a Kommo account.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

from bot_settings import BotSettingsFile
from kommo_provider import KommoChatChannelConnection
from kommo_provider.emulator import DEMO_ACCOUNT_IDS, DEMO_BASE_URL, DEMO_CHANNEL_ID, DEMO_CHANNEL_SECRET

PROJECT_DIR = Path(__file__).resolve().parent
"""This program's folder (where Pulumi.yaml is): relative paths are taken from here, not from the
working directory, which differs between ``pulumi up``, an inline Automation API program and the
provider process."""
BOT_SETTINGS_DIR = PROJECT_DIR / ".bot-settings"
"""A folder of its own for the default settings file: ``build/`` belongs to setuptools."""

config = pulumi.Config("kommo")

channel_id = config.get("channelId")
if channel_id is None:  # demo mode: the emulator's public demo channel
    channel_id = DEMO_CHANNEL_ID
    channel_secret: pulumi.Input[str] = pulumi.Output.secret(DEMO_CHANNEL_SECRET)
    base_url: str | None = config.get("baseUrl") or DEMO_BASE_URL
    default_accounts: list[dict[str, Any]] = [
        {"accountId": account_id, "name": f"demo{i + 1}", "title": "Support bot"}
        for i, account_id in enumerate(DEMO_ACCOUNT_IDS)
    ]
else:
    channel_secret = config.require_secret("channelSecret")
    base_url = config.get("baseUrl")
    single = config.get("accountId")
    default_accounts = [{"accountId": single, "name": "main"}] if single else []

accounts: list[dict[str, Any]] = config.get_object("accounts") or default_accounts
if not accounts:
    raise pulumi.RunError("set kommo:accounts (a list of {accountId, name, title}) or kommo:accountId")

webhook_base = (config.get("webhookBaseUrl") or "https://bot.example.com/kommo/webhook").rstrip("/")

scope_ids: dict[str, pulumi.Output[str]] = {}
webhook_urls: dict[str, pulumi.Output[str]] = {}
for account in accounts:
    name = str(account.get("name") or account["accountId"][:8])
    connection = KommoChatChannelConnection(
        f"account-{name}",
        channel_id=channel_id,
        channel_secret=channel_secret,
        account_id=account["accountId"],
        title=account.get("title"),
        base_url=base_url,
        reconnect_triggers=account.get("reconnectTriggers"),
    )
    scope_ids[name] = connection.scope_id
    # Kommo substitutes the scope_id into the channel's webhook URL: https://host/location/:scope_id
    webhook_urls[name] = pulumi.Output.concat(webhook_base, "/", connection.scope_id)

configured_path = config.get("botSettingsPath")
if configured_path:
    bot_settings_path = PROJECT_DIR / Path(configured_path).expanduser()
else:
    bot_settings_path = BOT_SETTINGS_DIR / f"{pulumi.get_stack()}.json"
bot_settings_path = bot_settings_path.resolve()  # absolute: the exported path is opened by other stacks

settings = BotSettingsFile(
    "bot-settings",
    path=str(bot_settings_path),
    settings=pulumi.Output.all(scope_ids=scope_ids, webhook_urls=webhook_urls).apply(
        lambda v: {
            "channel_id": channel_id,
            "accounts": {
                name: {"scope_id": v["scope_ids"][name], "webhook_url": v["webhook_urls"][name]}
                for name in v["scope_ids"]
            },
        }
    ),
)

pulumi.export("scope_ids", scope_ids)
pulumi.export("webhook_urls", webhook_urls)
pulumi.export("bot_settings_file", settings.path)
