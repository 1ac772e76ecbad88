#!/usr/bin/env bash
# The test command: bootstrap, lint, type-check, then every test (unit, emulator, engine-level gRPC,
# and the end-to-end suite under the real Pulumi CLI). Extra arguments go to pytest.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/bootstrap.sh
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; exec .venv/bin/python -m pytest "$@"
