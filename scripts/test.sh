#!/usr/bin/env bash
# The test command: bootstrap, lint, type-check, then every test (unit, emulator, engine-level gRPC,
# packaging, and the end-to-end suite under the real Pulumi CLI). Extra arguments go to pytest.
#
# Besides what bootstrap prepares (.venv, the Pulumi CLI, the SDK examples' packages), the packaging
# and download tests need the standalone plugin archive and actionlint; both are built here once and
# cached (~/.cache/kommo-provider/), so later runs reuse them.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/bootstrap.sh
echo "== tools: actionlint, the standalone plugin archive"
bash scripts/get-actionlint.sh >/dev/null
bash scripts/build-plugin-archive.sh >/dev/null
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; exec .venv/bin/python -m pytest "$@"
