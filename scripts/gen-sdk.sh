#!/usr/bin/env bash
# Regenerates the kommo SDKs for TypeScript, Python and Go from the plugin's schema:
#
#   scripts/gen-sdk.sh                 # into sdk/ (nodejs/, python/, go/kommo/, go.mod, go.sum)
#   scripts/gen-sdk.sh --out DIR       # elsewhere (tests/test_sdk_generated.py compares DIR with sdk/)
#
# The schema comes from `python -m kommo_provider.plugin.schema` (schema.json with the package's
# version), the generator is scripts/sdkgen (built and cached by scripts/build-sdkgen.sh), and the
# Go SDK module's go.sum from `go mod tidy`. Commit what changes under sdk/.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$repo/sdk"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gen-sdk: unknown argument $1" >&2; exit 2 ;;
  esac
done
python="$repo/.venv/bin/python"
[ -x "$python" ] || { echo "gen-sdk: no .venv: run scripts/bootstrap.sh first" >&2; exit 1; }

sdkgen="$(bash "$repo/scripts/build-sdkgen.sh")"
mkdir -p "$out"
schema="$(mktemp)"
trap 'rm -f "$schema"' EXIT
(cd "$repo" && "$python" -m kommo_provider.plugin.schema >"$schema")
"$sdkgen" -schema "$schema" -out "$out"
# go.sum (and the indirect requirements) of the Go SDK module, from the module cache or the Go proxy.
(cd "$out" && GOFLAGS=-mod=mod go mod tidy)

if [ "$(cd "$out" && pwd)" = "$repo/sdk" ]; then
  # The examples' lockfiles follow the SDKs they use (the npm package's version and dependencies).
  if command -v npm >/dev/null 2>&1; then
    npm --prefix "$repo/examples/typescript" install --package-lock-only --ignore-scripts \
      --no-audit --no-fund --loglevel=error >/dev/null
  fi
  (cd "$repo/examples/go" && GOFLAGS=-mod=mod go mod tidy)
  echo "gen-sdk: regenerated sdk/; scripts/setup-sdk-examples.sh installs it for the examples" >&2
fi
