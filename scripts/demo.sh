#!/usr/bin/env bash
# The demo: bootstrap, then `pulumi up` of the example stack against the embedded amojo emulator.
# `scripts/demo.sh --destroy` disconnects everything again. See scripts/demo.py --help.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/bootstrap.sh
exec .venv/bin/python scripts/demo.py "$@"
