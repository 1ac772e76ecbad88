"""Run the example stack against the embedded amojo emulator: ``up`` by default, ``--destroy`` to undo.

The Python example stack (``__main__.py``, the dynamic resource) by default; ``--yaml`` runs
``examples/yaml`` (the ``kommo`` plugin, through Pulumi YAML's language host) instead.

The emulator runs inside this process for the duration of the command and keeps its connections in
``.pulumi-state/emulator.json`` (``emulator-yaml.json`` for ``--yaml``), so a later ``--destroy``
finds what ``up`` connected. Stack state lives in ``.pulumi-state/`` (a local file backend,
passphrase ``kommo-demo``): no Pulumi Cloud account.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

# stack_runner.py sits at the repository root beside the example program, outside the installed
# package; `python scripts/demo.py` puts only scripts/ on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot_settings import FORMER_MODULE, RESOURCE_TYPE, BotSettingsFileProvider
from kommo_provider.emulator import (
    DEMO_ACCOUNTS,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    DEMO_PORT,
    EmulatorServer,
)
from stack_runner import PROJECT_DIR, LocalStack, PulumiNotFoundError, example_program

STATE_DIR = PROJECT_DIR / ".pulumi-state"
DEMO_PASSPHRASE = "kommo-demo"
YAML_EXAMPLE = PROJECT_DIR / "examples" / "yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--destroy", action="store_true", help="disconnect everything and empty the stack")
    parser.add_argument("--preview", action="store_true", help="show the plan only")
    parser.add_argument("--stack", default="dev", help="stack name (default: dev)")
    parser.add_argument("--port", type=int, default=DEMO_PORT, help=f"emulator port (default {DEMO_PORT})")
    parser.add_argument("--yaml", action="store_true", help="run examples/yaml (the kommo plugin) instead")
    args = parser.parse_args(argv)
    emulator_state = STATE_DIR / ("emulator-yaml.json" if args.yaml else "emulator.json")

    try:
        emulator = EmulatorServer(
            {DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET},
            port=args.port,
            state_file=emulator_state,
            accounts=DEMO_ACCOUNTS,  # demo and demo2: the REST API v4 accounts the examples set up
        )
        STATE_DIR.mkdir(exist_ok=True)
        emulator.start()
    except OSError as exc:
        print(
            f"demo: cannot start the emulator on 127.0.0.1:{args.port} ({exc}); "
            f"free the port or pass --port N",
            file=sys.stderr,
        )
        return 1
    print(f"demo: amojo emulator on {emulator.url}, demo channel {DEMO_CHANNEL_ID}", flush=True)
    try:
        try:
            if args.yaml:
                # A copy of the program, so the stack's config file stays out of examples/yaml.
                work_dir = STATE_DIR / "yaml-example"
                work_dir.mkdir(exist_ok=True)
                shutil.copy2(YAML_EXAMPLE / "Pulumi.yaml", work_dir / "Pulumi.yaml")
                stack = LocalStack(
                    args.stack, None, state_dir=STATE_DIR, passphrase=DEMO_PASSPHRASE, work_dir=work_dir
                )
            else:
                stack = LocalStack(
                    args.stack, example_program(), state_dir=STATE_DIR, passphrase=DEMO_PASSPHRASE
                )
                # State from before bot_settings.py moved out of the package names the old module.
                if stack.repoint_moved_provider(RESOURCE_TYPE, BotSettingsFileProvider(), FORMER_MODULE):
                    print(f"demo: the stack's state now names bot_settings.py (was {FORMER_MODULE})")
        except PulumiNotFoundError as exc:
            print(f"demo: {exc}", file=sys.stderr)
            return 1
        stack.set_config({"kommo-yaml-example:baseUrl" if args.yaml else "kommo:baseUrl": emulator.url})
        started = time.monotonic()
        if args.destroy:
            stack.stack.destroy(on_output=print)
        elif args.preview:
            stack.stack.preview(on_output=print)
        else:
            # The emulator keeps sources and webhooks in memory only: for the YAML example, a refresh
            # first drops from state what an earlier run's emulator held, and the up makes it again.
            stack.stack.up(on_output=print, refresh=args.yaml)
        elapsed = time.monotonic() - started
    except Exception as exc:  # the Automation API raises CommandError with the CLI's output
        print(f"demo: pulumi failed: {exc}", file=sys.stderr)
        return 1
    finally:
        emulator.stop()

    connected = [c for c in emulator.backend.connections()]
    print(f"\ndemo: done in {elapsed:.1f} s; the emulator now has {len(connected)} connected account(s).")
    if args.yaml:
        for account in (spec.subdomain for spec in DEMO_ACCOUNTS):
            sources, hooks = emulator.rest.sources(account), emulator.rest.webhooks(account)
            print(f"      account {account!r}: {len(sources)} source(s), {len(hooks)} webhook(s).")
    if not args.destroy and not args.preview:
        outputs = stack.outputs()
        if args.yaml:
            print("outputs:", json.dumps(outputs, indent=2))
            print("next: scripts/demo.sh --yaml --destroy   (disconnect everything)")
        else:
            print("scope_ids:", json.dumps(outputs.get("scope_ids"), indent=2))
            print(f"bot settings file: {outputs.get('bot_settings_file')}")
            print("next: scripts/demo.sh --destroy   (disconnect everything)")
        print(
            f"      stack state: {STATE_DIR} (PULUMI_BACKEND_URL=file://{STATE_DIR}, "
            f"passphrase {DEMO_PASSPHRASE})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
