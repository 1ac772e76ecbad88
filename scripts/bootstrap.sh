#!/usr/bin/env bash
# Prepares a fresh machine: the .venv virtualenv with this package and its dev tools, and the Pulumi CLI.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
say() { printf '[bootstrap] %s\n' "$*" >&2; }

python="${PYTHON:-$(command -v python3 || true)}"
if [ -z "$python" ]; then
  say "python3 not found: install Python 3.10 or newer"; exit 1
fi
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $("$python" --version 2>&1)"
  "$python" -m venv .venv
fi
stamp=.venv/.kommo-provider-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing kommo-provider and its dev tools into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
  touch "$stamp"
fi
if [ "${KOMMO_SKIP_PULUMI:-}" != "1" ]; then
  bash scripts/get-pulumi.sh
fi
# The generated SDKs (sdk/) for the examples and their tests: pulumi_kommo into .venv, the npm
# packages of examples/typescript, the SDK generator and a build of examples/go (cached; see the script).
if [ "${KOMMO_SKIP_SDK_EXAMPLES:-}" != "1" ]; then
  bash scripts/setup-sdk-examples.sh
fi
