"""The account setup of a fleet as Pulumi YAML programs, and the emulator accounts they run against.

Per account a program looks the account up (``getAccount``), connects it to the channel with the
lookup's ``amojoId``, and gives it a Source and a Webhook. Three shapes:

- :func:`fleet_program`: one kommo provider for the channel and every account (0.4.0): each object
  names its ``account``, and tokens come from ``accessTokens`` or ``tokenCommand``;
- :func:`per_account_program`: a kommo provider per account (``accountDomain`` and ``accessToken``),
  the only way 0.3.0 had, so the engine starts a plugin process per account;
- :func:`as_noop`: either shape on the no-op plugin ``benchnoopacct`` (bench/noop_account_plugin.py):
  the same providers, invokes, inputs and output shapes, and no request: Pulumi's own cost.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import requests

from bench import noop_account_plugin as noop
from kommo_provider.emulator import DEMO_CHANNEL_ID, DEMO_CHANNEL_SECRET, mint_token

EVENTS: Final = ["add_message", "status_lead"]
ACCESS_TOKENS: Final = "access-tokens"
TOKEN_COMMAND: Final = "token-command"
TOKEN_SOURCES: Final = (ACCESS_TOKENS, TOKEN_COMMAND)
"""How a fleet provider gets each account's token: ``accessTokens``, or ``tokenCommand`` running
``kommo-chat token`` against the emulator's vendor token service (a process per account)."""
_KINDS: Final = {
    "pulumi:providers:kommo": f"pulumi:providers:{noop.PACKAGE}",
    "kommo:index:ChatChannelConnection": noop.CONNECTION,
    "kommo:index:Source": noop.SOURCE,
    "kommo:index:Webhook": noop.WEBHOOK,
}


@dataclass(frozen=True)
class Account:
    """One REST account of the emulator: its subdomain, ids and long-lived token (not in the repr)."""

    subdomain: str
    id: int
    amojo_id: str
    token: str = field(repr=False)


def accounts(n: int) -> list[Account]:
    """``n`` accounts with fixed names, ids and tokens, so every run of the benchmark sees the same."""
    return [
        Account(
            f"acct{i:04d}",
            40_000_000 + i,
            f"00000000-0000-4000-8000-{i:012d}",
            mint_token(
                account_id=40_000_000 + i,
                integration_id="bench",
                user_id=9_000_000 + i,
                issued_at=1_767_225_600,
                expires_at=4_102_444_800,
                token_id=f"bench{i}",
            ),
        )
        for i in range(1, n + 1)
    ]


def admin(url: str, method: str, path: str, body: Any = None) -> Any:
    """One call to the emulator's control API (tokens travel in the body, never in an argument)."""
    answer = requests.request(method, f"{url}/_emulator/{path}", json=body, timeout=30)
    answer.raise_for_status()
    return answer.json()


def register(url: str, served: list[Account]) -> None:
    """Serve each account in the emulator, with its ids and its token."""
    with requests.Session() as session:
        for account in served:
            body = {
                "subdomain": account.subdomain,
                "id": account.id,
                "amojo_id": account.amojo_id,
                "token": account.token,
            }
            session.post(f"{url}/_emulator/accounts", json=body, timeout=30).raise_for_status()


def _channel(url: str, pacing: dict[str, Any]) -> dict[str, Any]:
    return {
        "channelId": DEMO_CHANNEL_ID,
        "channelSecret": {"fn::secret": DEMO_CHANNEL_SECRET},
        "baseUrl": url,
        **pacing,
    }


def _objects(i: int, account: Account, on_account: dict[str, Any], where: dict[str, Any]) -> dict[str, Any]:
    """Account ``i``'s connection (through the ``${channel}`` provider), Source and Webhook."""
    return {
        f"c{i}": {
            "type": "kommo:index:ChatChannelConnection",
            "properties": {"accountId": f"${{account{i}.amojoId}}", "title": "Support bot"},
            "options": {"provider": "${channel}"},
        },
        f"s{i}": {
            "type": "kommo:index:Source",
            "properties": {**where, "name": "Support bot chats", "externalId": "support-bot"},
            "options": on_account,
        },
        f"w{i}": {
            "type": "kommo:index:Webhook",
            "properties": {
                **where,
                "destination": f"https://bot.example.com/kommo/events/{account.subdomain}",
                "settings": EVENTS,
            },
            "options": on_account,
        },
    }


def per_account_program(url: str, served: list[Account], *, paced: bool = True) -> dict[str, Any]:
    """0.3.0's shape: a provider for the channel, and per account a provider, getAccount, a connection,
    a source and a webhook."""
    pacing = {} if paced else {"maxRequestsPerSecond": 0}
    resources: dict[str, Any] = {
        "channel": {"type": "pulumi:providers:kommo", "properties": _channel(url, pacing)}
    }
    variables: dict[str, Any] = {}
    for i, account in enumerate(served):
        resources[f"a{i}"] = {
            "type": "pulumi:providers:kommo",
            "properties": {
                "accountDomain": account.subdomain,
                "accessToken": {"fn::secret": account.token},
                "apiBaseUrl": url,
                **pacing,
            },
        }
        on_account = {"provider": f"${{a{i}}}"}
        variables[f"account{i}"] = {
            "fn::invoke": {"function": "kommo:index:getAccount", "options": on_account}
        }
        resources.update(_objects(i, account, on_account, {}))
    return {"name": "bench-account-setup", "runtime": "yaml", "resources": resources, "variables": variables}


def fleet_program(
    url: str, served: list[Account], *, tokens: str = ACCESS_TOKENS, paced: bool = True
) -> dict[str, Any]:
    """0.4.0's shape: one provider, ``channel``, for the channel and every account; each lookup and
    object names its ``account``."""
    pacing = {} if paced else {"maxRequestsPerSecond": 0}
    properties = {**_channel(url, pacing), "apiBaseUrl": url}
    if tokens == ACCESS_TOKENS:
        properties["accessTokens"] = {"fn::secret": {a.subdomain: a.token for a in served}}
    else:
        properties["tokenCommand"] = token_command(url)
    resources: dict[str, Any] = {"channel": {"type": "pulumi:providers:kommo", "properties": properties}}
    variables: dict[str, Any] = {}
    on_channel = {"provider": "${channel}"}
    for i, account in enumerate(served):
        where = {"account": account.subdomain}
        variables[f"account{i}"] = {
            "fn::invoke": {"function": "kommo:index:getAccount", "arguments": where, "options": on_channel}
        }
        resources.update(_objects(i, account, on_channel, where))
    return {"name": "bench-fleet", "runtime": "yaml", "resources": resources, "variables": variables}


def token_command(url: str) -> list[str]:
    """``kommo-chat token`` asking the emulator's vendor token service, as a vendor's fleet would."""
    return [
        str(Path(sys.executable).parent / "kommo-chat"),
        "token",
        "--url",
        f"{url}/_emulator/vendor-tokens",
    ]


def as_noop(program: dict[str, Any]) -> dict[str, Any]:
    """The same program on the no-op plugin: the same providers, invokes, inputs and output shapes."""
    program = copy.deepcopy(program)
    for resource in program["resources"].values():
        resource["type"] = _KINDS[resource["type"]]
    for variable in program["variables"].values():
        variable["fn::invoke"]["function"] = noop.GET_ACCOUNT
    return program


def expected_creates(program: dict[str, Any]) -> int:
    """What ``up`` creates: the stack and every resource of the program (providers included)."""
    return 1 + len(program["resources"])
