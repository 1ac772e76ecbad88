"""``pulumi up`` wall time under the real CLI: Kommo connections vs the same stack of no-op resources.

Run: ``.venv/bin/python -m bench.pulumi_up [--sizes 1,10,100] [--repeats 3] [--rate-limited 200]``.
Needs the CLI and Pulumi YAML's language host from scripts/get-pulumi.sh. Every stack is created,
timed on ``up``, destroyed, on a temporary file backend; the emulator runs in its own process.

1. For each size N, like against like (request pacing off), the median of ``--repeats`` runs:
   - dynamic: N KommoChatChannelConnection from an inline Python program vs N no-op dynamic resources
     with the same inputs and output shape (bench/noop.py ``NoopConnection``);
   - plugin: a Pulumi YAML program with N kommo:index:ChatChannelConnection vs the same program on the
     no-op plugin ``benchnoop`` (bench/noop_plugin.py): same YAML host, plugin path, inputs and output
     shape, and no request. The kommo plugin runs twice: as the console script of ``pip install -e .``
     and as the standalone executable users download (scripts/build-plugin-archive.sh, PyInstaller).
   Runs are interleaved; the ratios show what the Kommo code (validation, signing, the HTTP round trip
   to the emulator) adds to Pulumi's own cost of the same stack (target <= 1.05).
2. ``--rate-limited N``: N connections against the emulator limited to 7 requests/s, with the
   provider's default pacing (7/s). Failures (target 0) and wall time over the N/7 s floor (target <= 1.1).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from bench.common import emulator_process, standalone_plugin
from bench.noop import NoopConnection
from bench.noop_plugin import THING, install_launcher
from kommo_provider import KommoChatChannelConnection
from kommo_provider.emulator import DEMO_CHANNEL_ID, DEMO_CHANNEL_SECRET, EmulatorServer
from stack_runner import LocalStack


def account(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def kommo_program(url: str, n: int) -> Callable[[], None]:
    def program() -> None:
        for i in range(n):
            KommoChatChannelConnection(
                f"c{i}",
                channel_id=DEMO_CHANNEL_ID,
                channel_secret=DEMO_CHANNEL_SECRET,
                account_id=account(i),
                base_url=url,
            )

    return program


def noop_program(url: str, n: int) -> Callable[[], None]:
    """The dynamic program with a no-op resource of the same inputs and output shape."""

    def program() -> None:
        for i in range(n):
            NoopConnection(
                f"c{i}",
                channel_id=DEMO_CHANNEL_ID,
                channel_secret=DEMO_CHANNEL_SECRET,
                account_id=account(i),
                base_url=url,
            )

    return program


def yaml_kommo(url: str, n: int) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "channel": {
            "type": "pulumi:providers:kommo",
            "properties": {
                "channelId": DEMO_CHANNEL_ID,
                "channelSecret": {"fn::secret": DEMO_CHANNEL_SECRET},
                "baseUrl": url,
                "maxRequestsPerSecond": 0,
            },
        }
    }
    for i in range(n):
        resources[f"c{i}"] = {
            "type": "kommo:index:ChatChannelConnection",
            "properties": {"accountId": account(i)},
            "options": {"provider": "${channel}"},
        }
    return {"name": "bench-plugin", "runtime": "yaml", "resources": resources}


def yaml_noop(url: str, n: int) -> dict[str, Any]:
    """The same program with the no-op plugin: the same provider settings, inputs and output shape."""
    program = yaml_kommo(url, n)
    program["resources"]["channel"]["type"] = "pulumi:providers:benchnoop"
    for i in range(n):
        program["resources"][f"c{i}"]["type"] = THING
    return program


def timed_up(
    program: Callable[[], None] | dict[str, Any],
    name: str,
    root: Path,
    config: dict[str, str],
    env: dict[str, str] | None = None,
    around_up: AbstractContextManager[Any] | None = None,
) -> tuple[float, int]:
    """(seconds for up, resources created); the stack is destroyed afterwards.

    A dict is a Pulumi YAML program, written into a project folder of its own. ``around_up`` is
    entered just before ``up`` and left just after it (a sampler of the plugin processes).
    """
    work_dir = root
    if isinstance(program, dict):
        work_dir = root / name
        work_dir.mkdir(exist_ok=True)
        (work_dir / "Pulumi.yaml").write_text(json.dumps(program))
    stack = LocalStack(
        name,
        None if isinstance(program, dict) else program,
        state_dir=root / "state",
        passphrase="bench",
        work_dir=work_dir,
        env=env,
    )
    stack.set_config(config)
    with around_up or nullcontext():
        started = time.perf_counter()
        result = stack.stack.up()
        elapsed = time.perf_counter() - started
    created = (result.summary.resource_changes or {}).get(auto.OpType.CREATE, 0)
    stack.stack.destroy()
    return elapsed, created


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,100")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate-limited", type=int, default=200)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory() as tmp, emulator_process() as url:
        root = Path(tmp)
        bin_dir = root / "bin"
        bin_dir.mkdir()
        install_launcher(bin_dir)
        path = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        plugin_env = {"PATH": path}
        _, standalone = standalone_plugin(root)
        standalone_env = {"PATH": os.pathsep.join([str(standalone.parent), path])}  # first on PATH: it wins
        print(f"median of {args.repeats} ups each; request pacing off; emulator in its own process")
        print(
            f"{'N':>5} {'dyn noop s':>11} {'dyn kommo s':>12} {'ratio':>6}"
            f" {'plugin noop s':>14} {'plugin kommo s':>15} {'ratio':>6} {'standalone s':>13} {'ratio':>6}"
        )
        for n in sizes:
            variants: dict[
                str, tuple[Callable[[], None] | dict[str, Any], dict[str, str], dict[str, str] | None]
            ] = {
                "dyn noop": (noop_program(url, n), {}, None),
                "dyn kommo": (kommo_program(url, n), {"kommo:maxRequestsPerSecond": "0"}, None),
                "plugin noop": (yaml_noop(url, n), {}, plugin_env),
                "plugin kommo": (yaml_kommo(url, n), {}, plugin_env),
                "standalone": (yaml_kommo(url, n), {}, standalone_env),
            }
            runs: dict[str, list[float]] = {name: [] for name in variants}
            for repeat in range(args.repeats):  # interleaved, so drift on a shared machine hits all alike
                for name, (program, config, env) in variants.items():
                    elapsed, created = timed_up(
                        program, f"{name.replace(' ', '-')}-{n}-{repeat}", root, config, env
                    )
                    assert created == n + (1 if name.startswith("dyn") else 2), (name, created)
                    runs[name].append(elapsed)
            med = {name: statistics.median(values) for name, values in runs.items()}
            dyn, plugin = med["dyn kommo"] / med["dyn noop"], med["plugin kommo"] / med["plugin noop"]
            frozen = med["standalone"] / med["plugin noop"]
            print(
                f"{n:>5} {med['dyn noop']:>11.2f} {med['dyn kommo']:>12.2f} {dyn:>6.2f}"
                f" {med['plugin noop']:>14.2f} {med['plugin kommo']:>15.2f} {plugin:>6.2f}"
                f" {med['standalone']:>13.2f} {frozen:>6.2f}",
                flush=True,
            )
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}) as emu:
        root = Path(tmp)
        if args.rate_limited:
            n = args.rate_limited
            emu.backend.reset()
            emu.faults.set_rate_limit(7)
            started = time.time()
            seconds, created = timed_up(kommo_program(emu.url, n), f"limited{n}", root, {})
            posts = sorted(r.received_at for r in emu.backend.requests() if r.method == "POST")
            rejected = sum(1 for r in emu.backend.requests() if r.status == 429)
            gaps = [b - a for a, b in itertools.pairwise(posts)]
            emu.faults.set_rate_limit(None)
            floor = n / 7
            print(f"\n{n} connections, emulator limited to 7 requests/s, default pacing (7/s):")
            print(f"  created {created - 1}/{n}, failures {n - (created - 1)}, 429 answers {rejected}")
            print(
                f"  up wall time {seconds:.1f} s; floor {n}/7 = {floor:.1f} s; ratio {seconds / floor:.2f} "
                f"(target <= 1.1)"
            )
            print(
                f"  first connect {posts[0] - started:.1f} s after up started; connects spanned "
                f"{posts[-1] - posts[0]:.1f} s (pacing alone: {(n - 1) / 7:.1f} s); "
                f"mean gap {sum(gaps) / len(gaps) * 1000:.0f} ms, max gap {max(gaps) * 1000:.0f} ms"
            )


if __name__ == "__main__":
    main()
