"""``pulumi up`` of a fleet's account setup under the real CLI: one kommo provider serving N accounts, beside
the same program on the no-op plugin and beside a provider per account, with the plugin processes' memory.

Run: ``.venv/bin/python -m bench.fleet [--accounts 1,100,1000] [--per-account 100] [--repeats 3]
[--token access-tokens|token-command] [--plugin installed|standalone] [--checkpoints skip|keep|both]``.
Needs the CLI and Pulumi YAML's language host (scripts/get-pulumi.sh), and Linux (/proc). Every stack
is created, timed on ``up``, destroyed, on a temporary file backend; the emulator runs in its own
process and serves the N accounts and their tokens.

Variants (bench/fleet_programs.py), run in interleaved repeats so drift on a shared machine hits all:

- **fleet**: one kommo provider for the channel and every account, with tokens from ``accessTokens``
  or from ``tokenCommand`` (``kommo-chat token`` against the emulator's vendor token service);
- **noop**: the same program on the no-op plugin ``benchnoopacct``: the floor of the same shape;
- **per-account** (at the ``--per-account`` sizes): a kommo provider per account, the 0.3.0 way; with
  ``--checkpoints both``, only with checkpoints skipped.

Pacing is off (``maxRequestsPerSecond: 0``, the emulator unlimited): this measures what the plugin costs,
not Kommo's rate limit (bench/account_setup.py checks the pacing). ``--checkpoints skip`` (the default)
sets ``PULUMI_SKIP_CHECKPOINTS=true``: the engine then writes the state once at the end instead of after
every step, which for N resources is N writes of a state that grows with N; ``both`` runs every variant
both ways, to show what that costs. While ``up`` runs, bench/plugin_processes.py counts the plugin
processes the run starts and samples their VmRSS every ~100 ms: the table shows the peak of their sum
and of one process. ``--plugin standalone`` measures the PyInstaller build users download instead of
the ``pip install`` console script.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench import fleet_programs as programs
from bench import noop_account_plugin as noop
from bench.common import emulator_process, load, standalone_plugin
from bench.plugin_processes import PluginWatch, Usage, plugin_named
from bench.pulumi_up import timed_up

FLOOR: Final = "noop"
TARGET_RATIO: Final = 1.3
TARGET_MIB: Final = 250
TARGET_SPEEDUP: Final = 3.0
KOMMO: Final = plugin_named("pulumi-resource-kommo")
NOOP: Final = plugin_named(f"pulumi-resource-{noop.PACKAGE}", module="bench.noop_account_plugin")


@dataclass(frozen=True)
class Variant:
    """One program to time: its name, whether state checkpoints are written, and its plugin."""

    name: str
    checkpoints: bool
    program: dict[str, Any] = field(repr=False, compare=False)
    is_plugin: Callable[[list[str]], bool] = field(repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"{self.name}{' +ckpt' if self.checkpoints else ''}"


@dataclass
class Runs:
    """The repeats of one variant at one size."""

    seconds: list[float] = field(default_factory=list)
    usages: list[Usage] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def variants(url: str, served: list[programs.Account], args: argparse.Namespace) -> list[Variant]:
    """The variants at ``len(served)`` accounts, for each checkpoint mode asked for."""
    fleet = programs.fleet_program(url, served, tokens=args.token, paced=False)
    found = []
    for kept in {"skip": [False], "keep": [True], "both": [False, True]}[args.checkpoints]:
        found += [Variant("fleet", kept, fleet, KOMMO), Variant(FLOOR, kept, programs.as_noop(fleet), NOOP)]
    if (
        len(served) in args.per_account
    ):  # once, in the first mode: it is compared with the fleet, not the floor
        each = programs.per_account_program(url, served, paced=False)
        found.append(Variant("per-account", args.checkpoints == "keep", each, KOMMO))
    return found


def run_size(
    url: str, served: list[programs.Account], args: argparse.Namespace, root: Path, env: dict[str, str]
) -> dict[Variant, Runs]:
    """Every variant at one size, ``args.repeats`` times, interleaved; asserts each ``up`` made it all."""
    n = len(served)
    runs = {variant: Runs() for variant in variants(url, served, args)}
    for repeat in range(args.repeats):
        for variant, found in runs.items():
            programs.admin(url, "POST", "reset")
            skip = {"PULUMI_SKIP_CHECKPOINTS": "false" if variant.checkpoints else "true"}
            stack = f"{variant.label.replace(' +', '-')}-{n}-{repeat}"
            watch = PluginWatch(variant.is_plugin)
            elapsed, created = timed_up(variant.program, stack, root, {}, {**env, **skip}, around_up=watch)
            wanted = programs.expected_creates(variant.program)
            assert created == wanted, (variant.label, n, created, wanted)
            found.seconds.append(elapsed)
            found.usages.append(watch.usage())
    return runs


def _mib(kib: int) -> float:
    return kib / 1024


def print_rows(n: int, runs: dict[Variant, Runs], token: str) -> None:
    """One row per variant; the ratio is to the no-op floor with the same checkpoint mode."""
    floors = {v.checkpoints: r.median for v, r in runs.items() if v.name == FLOOR}
    for variant, found in runs.items():
        plugins = max(u.plugins for u in found.usages)
        children = max(u.children for u in found.usages)
        peak_sum = max(u.peak_sum_kib for u in found.usages)
        peak_one = max(u.peak_one_kib for u in found.usages)
        tokens = token if variant.name == "fleet" else "accessToken" if variant.name == "per-account" else "-"
        ratio = found.median / floors[variant.checkpoints]
        print(
            f"{variant.label:<17} {tokens:<14} {n:>8} {found.median:>8.2f} {plugins:>7} {children:>9}"
            f" {_mib(peak_sum):>12.1f} {_mib(peak_one):>11.1f} {ratio:>6.2f}",
            flush=True,
        )


def print_targets(n: int, runs: dict[Variant, Runs]) -> None:
    """The issue's targets at this size: fleet within 1.3x of the floor, under 250 MiB, 3x a provider each."""
    by_name = {(v.name, v.checkpoints): r for v, r in runs.items()}
    for kept in sorted({v.checkpoints for v in runs}):
        mode = "checkpoints kept" if kept else "checkpoints skipped"
        fleet, floor = by_name[("fleet", kept)], by_name[(FLOOR, kept)]
        peak = _mib(max(u.peak_sum_kib for u in fleet.usages))
        ratio = fleet.median / floor.median
        line = (
            f"  {n} accounts, {mode}: fleet/noop {ratio:.2f} (target <= {TARGET_RATIO}),"
            f" fleet plugin RSS {peak:.0f} MiB (target < {TARGET_MIB} at 1,000)"
        )
        each = by_name.get(("per-account", kept))
        if each is not None:
            line += f", per-account/fleet {each.median / fleet.median:.2f} (target >= {TARGET_SPEEDUP})"
        print(line, flush=True)


def plugin_env(root: Path, plugin: str) -> dict[str, str]:
    """PATH with the no-op plugin's launcher, and the kommo plugin asked for first."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    noop.install_launcher(bin_dir)
    path = [str(bin_dir), str(Path(sys.executable).parent), os.environ.get("PATH", "")]
    if plugin == "standalone":
        _, executable = standalone_plugin(root)
        path.insert(0, str(executable.parent))  # first on PATH: it wins over the console script
    return {"PATH": os.pathsep.join(path)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--accounts", default="1,100,1000", help="sizes, comma-separated (default 1,100,1000)"
    )
    parser.add_argument("--per-account", default="100", help="sizes that also run a provider per account")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--token", choices=programs.TOKEN_SOURCES, default=programs.ACCESS_TOKENS)
    parser.add_argument("--plugin", choices=("installed", "standalone"), default="installed")
    parser.add_argument("--checkpoints", choices=("skip", "keep", "both"), default="skip")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.accounts.split(",") if s]
    args.per_account = {int(s) for s in args.per_account.split(",") if s}
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"before: {load()}")
    with tempfile.TemporaryDirectory() as tmp, emulator_process() as url:
        root = Path(tmp)
        env = plugin_env(root, args.plugin)
        served = programs.accounts(max(args.sizes))
        programs.register(url, served)
        programs.admin(url, "POST", "faults", {"rate_limit": None})
        print(
            f"median of {args.repeats} ups each; pacing off, emulator unlimited and in its own process;"
            f" kommo plugin: {args.plugin}; RSS: the plugin processes (and what they start) sampled every"
            " ~100 ms, largest over the repeats; ratio: to the noop floor of the same checkpoint mode"
        )
        print(
            f"{'variant':<17} {'tokens':<14} {'accounts':>8} {'up s':>8} {'plugins':>7} {'token cmds':>9}"
            f" {'peak sum MiB':>12} {'peak 1 MiB':>11} {'ratio':>6}"
        )
        for n in args.sizes:
            started = time.perf_counter()
            runs = run_size(url, served[:n], args, root, env)
            print_rows(n, runs, args.token)
            print_targets(n, runs)
            print(
                f"  ({n} accounts: {time.perf_counter() - started:.0f} s in all, setup and destroy included)"
            )
    print(f"after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
