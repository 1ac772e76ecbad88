"""``pulumi up`` of a Kommo integration's per-account setup under the real CLI, for 1 and 50 accounts, against
the same stack of no-op resources.

Run: ``.venv/bin/python -m bench.account_setup [--accounts 1,50] [--repeats 3]``. Needs the CLI and
Pulumi YAML's language host (scripts/get-pulumi.sh). Every stack is created, timed on ``up``, destroyed,
on a temporary file backend; the emulator runs in its own process.

Each account is what a user declares for it (examples/yaml): a kommo provider with the account's host
and long-lived token, ``getAccount`` through it, a ChatChannelConnection (through the one provider of
the channel) whose ``accountId`` is the lookup's ``amojoId``, a Source on the main pipeline and a
Webhook. The floor is the same YAML program on the no-op plugin ``benchnoopacct``
(bench/noop_account_plugin.py): the same providers, invokes, inputs and output shapes, no request.

Pacing is what a user with 50 accounts sets: nothing, the defaults. Kommo allows 7 requests per second
per account: each account's provider paces its REST calls at 7/s (each token has its own pacer), and
the channel's provider paces the connects of every account at 7/s, as they all go to one channel (the
emulator limits amojo per channel). The emulator answers 429 above 7 requests/s per account and per
channel, so the 429 count shows whether the pacing holds. A second kommo run with pacing off (and the
emulator unlimited) shows what the plugin costs apart from waiting for the pacer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench import noop_account_plugin as noop
from bench.common import emulator_process
from bench.pulumi_up import timed_up
from kommo_provider.emulator import DEMO_CHANNEL_ID, DEMO_CHANNEL_SECRET, mint_token

KOMMO_LIMIT = 7
EVENTS = ["add_message", "status_lead"]


@dataclass(frozen=True)
class Account:
    """One REST account of the emulator: its subdomain, amojo_id and long-lived token."""

    subdomain: str
    amojo_id: str
    token: str


def accounts(n: int) -> list[Account]:
    return [
        Account(
            f"acct{i:02d}",
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


def setup_program(url: str, served: list[Account], *, paced: bool = True) -> dict[str, Any]:
    """The kommo program: a provider for the channel, and per account a provider, getAccount, a
    connection, a source and a webhook."""
    pacing = {} if paced else {"maxRequestsPerSecond": 0}
    resources: dict[str, Any] = {
        "channel": {
            "type": "pulumi:providers:kommo",
            "properties": {
                "channelId": DEMO_CHANNEL_ID,
                "channelSecret": {"fn::secret": DEMO_CHANNEL_SECRET},
                "baseUrl": url,
                **pacing,
            },
        }
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
        resources[f"c{i}"] = {
            "type": "kommo:index:ChatChannelConnection",
            "properties": {"accountId": f"${{account{i}.amojoId}}", "title": "Support bot"},
            "options": {"provider": "${channel}"},
        }
        resources[f"s{i}"] = {
            "type": "kommo:index:Source",
            "properties": {"name": "Support bot chats", "externalId": "support-bot"},
            "options": on_account,
        }
        resources[f"w{i}"] = {
            "type": "kommo:index:Webhook",
            "properties": {"destination": f"https://bot.example.com/kommo/events/{i}", "settings": EVENTS},
            "options": on_account,
        }
    return {"name": "bench-account-setup", "runtime": "yaml", "resources": resources, "variables": variables}


def noop_program(url: str, served: list[Account]) -> dict[str, Any]:
    """The same program on the no-op plugin: the same providers, invokes, inputs and output shapes."""
    program = setup_program(url, served)
    kinds = {
        "pulumi:providers:kommo": f"pulumi:providers:{noop.PACKAGE}",
        "kommo:index:ChatChannelConnection": noop.CONNECTION,
        "kommo:index:Source": noop.SOURCE,
        "kommo:index:Webhook": noop.WEBHOOK,
    }
    for resource in program["resources"].values():
        resource["type"] = kinds[resource["type"]]
    for variable in program["variables"].values():
        variable["fn::invoke"]["function"] = noop.GET_ACCOUNT
    return program


def rejected(url: str) -> int:
    """429 answers the emulator gave since its last reset."""
    return sum(1 for r in admin(url, "GET", "state")["requests"] if r["status"] == 429)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", default="1,50")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.accounts.split(",") if s]
    print(f"before: {load()}")
    with tempfile.TemporaryDirectory() as tmp, emulator_process() as url:
        root = Path(tmp)
        bin_dir = root / "bin"
        bin_dir.mkdir()
        noop.install_launcher(bin_dir)
        env = {"PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]])}
        served = accounts(max(sizes))
        for account in served:
            admin(
                url,
                "POST",
                "accounts",
                {"subdomain": account.subdomain, "amojo_id": account.amojo_id, "token": account.token},
            )
        print(f"median of {args.repeats} ups each; emulator in its own process; 429s over up and destroy")
        print("kommo: default pacing (7/s per account's provider, 7/s for the channel's connects), emulator")
        print(
            f"limited to {KOMMO_LIMIT}/s per account and per channel; unpaced: pacing off, emulator unlimited"
        )
        print(
            f"{'accounts':>8} {'noop s':>7} {'kommo s':>8} {'ratio':>6} {'429s':>5} {'connects floor s':>17}"
            f" {'unpaced s':>10} {'ratio':>6}"
        )
        for n in sizes:
            variants = {
                "noop": (noop_program(url, served[:n]), None),
                "kommo": (setup_program(url, served[:n]), KOMMO_LIMIT),
                "unpaced": (setup_program(url, served[:n], paced=False), None),
            }
            runs: dict[str, list[float]] = {name: [] for name in variants}
            throttled = 0
            for repeat in range(args.repeats):  # interleaved, so drift on a shared machine hits all alike
                for name, (program, limit) in variants.items():
                    admin(url, "POST", "reset")
                    admin(url, "POST", "faults", {"rate_limit": limit})
                    elapsed, created = timed_up(program, f"{name}-{n}-{repeat}", root, {}, env)
                    assert created == 4 * n + 2, (name, n, created)  # stack, providers, 3 per account
                    runs[name].append(elapsed)
                    throttled += rejected(url) if name == "kommo" else 0
            med = {name: statistics.median(values) for name, values in runs.items()}
            print(
                f"{n:>8} {med['noop']:>7.2f} {med['kommo']:>8.2f} {med['kommo'] / med['noop']:>6.2f}"
                f" {throttled:>5} {(n - 1) / KOMMO_LIMIT:>17.2f}"
                f" {med['unpaced']:>10.2f} {med['unpaced'] / med['noop']:>6.2f}",
                flush=True,
            )
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
