"""``pulumi up`` of a Kommo integration's account setup under the real CLI with Kommo's rate limit: the
provider's default pacing, against the emulator answering 429 above 7 requests per second.

Run: ``.venv/bin/python -m bench.account_setup [--accounts 1,50] [--repeats 3]``. Needs the CLI and
Pulumi YAML's language host (scripts/get-pulumi.sh). Every stack is created, timed on ``up``, destroyed,
on a temporary file backend; the emulator runs in its own process.

Each account is what a user declares for it (bench/fleet_programs.py): ``getAccount``, a
ChatChannelConnection whose ``accountId`` is the lookup's ``amojoId``, a Source on the main pipeline
and a Webhook; in two shapes: a kommo provider per account (0.3.0's only way), and one provider for
the channel and every account with ``accessTokens`` (0.4.0). The reference is the fleet program on the
no-op plugin ``benchnoopacct`` (bench/noop_account_plugin.py), with no request and no pacing.

Pacing is what a user sets: nothing, the defaults. Kommo allows 7 requests per second per account:
each account's calls are paced at 7/s on their own (per token in a provider per account; per account
in the one provider), and the connects of every account at 7/s together, as they all go to one
channel (the emulator limits amojo per channel). The emulator answers 429 above 7 requests/s per
account and per channel, so the 429 count shows whether the pacing holds; the N connects alone need
(N - 1)/7 s. What the plugin costs with pacing off, and its processes' memory: bench/fleet.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench import fleet_programs as programs
from bench import noop_account_plugin as noop
from bench.common import emulator_process, load
from bench.pulumi_up import timed_up

KOMMO_LIMIT = 7


def rejected(url: str) -> int:
    """429 answers the emulator gave since its last reset."""
    return sum(1 for r in programs.admin(url, "GET", "state")["requests"] if r["status"] == 429)


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
        served = programs.accounts(max(sizes))
        programs.register(url, served)
        print(f"median of {args.repeats} ups each; emulator in its own process; 429s over up and destroy")
        print(
            f"default pacing (7/s per account, 7/s for the channel's connects), emulator limited to "
            f"{KOMMO_LIMIT}/s per account and per channel; noop: the fleet program on the no-op plugin"
        )
        print(
            f"{'accounts':>8} {'noop s':>7} {'connects floor s':>17} {'per-account s':>14} {'429s':>5}"
            f" {'fleet s':>8} {'429s':>5}"
        )
        for n in sizes:
            fleet = programs.fleet_program(url, served[:n])
            variants = {
                "noop": (programs.as_noop(fleet), None),
                "per-account": (programs.per_account_program(url, served[:n]), KOMMO_LIMIT),
                "fleet": (fleet, KOMMO_LIMIT),
            }
            runs: dict[str, list[float]] = {name: [] for name in variants}
            throttled = dict.fromkeys(variants, 0)
            for repeat in range(args.repeats):  # interleaved, so drift on a shared machine hits all alike
                for name, (program, limit) in variants.items():
                    programs.admin(url, "POST", "reset")
                    programs.admin(url, "POST", "faults", {"rate_limit": limit})
                    elapsed, created = timed_up(program, f"{name}-{n}-{repeat}", root, {}, env)
                    assert created == programs.expected_creates(program), (name, n, created)
                    runs[name].append(elapsed)
                    throttled[name] += rejected(url)
            med = {name: statistics.median(values) for name, values in runs.items()}
            print(
                f"{n:>8} {med['noop']:>7.2f} {(n - 1) / KOMMO_LIMIT:>17.2f} {med['per-account']:>14.2f}"
                f" {throttled['per-account']:>5} {med['fleet']:>8.2f} {throttled['fleet']:>5}",
                flush=True,
            )
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
