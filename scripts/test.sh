#!/usr/bin/env bash
# The test command, in two tiers:
#
#   scripts/test.sh              # the full suite: bootstrap, ruff, mypy, then every test (unit, emulator,
#                                # engine-level gRPC, packaging, the SDKs, and the end-to-end suite under the
#                                # real Pulumi CLI), spread over the cores this process may use
#   scripts/test.sh --fast       # the fast tier, under a minute with warm caches: bootstrap without the
#                                # Pulumi CLI and the SDK examples (but the Python SDK, for mypy), ruff, mypy,
#                                # then every test that needs neither them nor the standalone plugin archive
#                                # (nor Node or Go builds)
#
# Other arguments go to pytest: `scripts/test.sh --fast -k webhook`, `scripts/test.sh -n 0` (one process).
# KOMMO_TEST_WORKERS sets the number of pytest-xdist workers (default: the cores this process may use).
#
# What a test needs beyond the virtualenv is provided by a fixture that marks it (tests/needs.py): the
# Pulumi CLI, the standalone plugin archive (PyInstaller), actionlint, the SDK examples and the SDK
# generator. The archive and actionlint are built only when a test that uses them runs, once (a file lock
# keeps the workers from building twice), and cached in ~/.cache/kommo-provider/, so later runs reuse them.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# Bytecode caches (ignored by git) are written even where the shell says not to: without them every
# xdist worker and every plugin process the tests start compiles the package and the tests again.
unset PYTHONDONTWRITEBYTECODE

fast=0
pytest_args=()
for arg in "$@"; do
  if [ "$arg" = --fast ]; then fast=1; else pytest_args+=("$arg"); fi
done
if [ "$fast" = 1 ]; then
  KOMMO_SKIP_PULUMI=1 KOMMO_SKIP_SDK_EXAMPLES=1 bash scripts/bootstrap.sh
  # Of the SDK examples, only the Python SDK (a local pip install, skipped when unchanged): mypy checks
  # examples/python against its types.
  bash scripts/setup-sdk-examples.sh python
  pytest_args=(--fast ${pytest_args[@]+"${pytest_args[@]}"})
else
  bash scripts/bootstrap.sh
fi
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
# pytest-xdist's -n: the cores this process may run on (its affinity mask, where the OS has one).
cores() {
  .venv/bin/python -c 'import os
print(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)'
}
workers="${KOMMO_TEST_WORKERS:-$(cores)}"
echo "== pytest$([ "$fast" = 1 ] && echo ' --fast') over $workers workers"
# loadgroup: tests spread one by one, except those marked xdist_group("name"), which share a worker.
status=0
.venv/bin/python -m pytest -n "$workers" --dist loadgroup ${pytest_args[@]+"${pytest_args[@]}"} || status=$?
if [ "$status" = 5 ]; then
  echo "scripts/test.sh: pytest selected no test (exit 5); a run that tests nothing is a failure" >&2
  exit 1
fi
exit "$status"
