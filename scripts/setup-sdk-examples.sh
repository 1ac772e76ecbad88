#!/usr/bin/env bash
# Installs what the generated SDKs' examples and tests need (scripts/bootstrap.sh runs it):
#
#   python      sdk/python (pulumi_kommo) into .venv
#   typescript  `npm ci` in examples/typescript (the SDK is a `file:` dependency that compiles itself
#               with tsc on install), then `tsc` of the example into examples/typescript/bin
#   go          the SDK generator (scripts/build-sdkgen.sh) and a build of examples/go, which fills
#               Go's build cache for the tests
#
#   scripts/setup-sdk-examples.sh [python] [typescript] [go]     # default: all three
#
# Safe to run again: each step is skipped while its inputs (hashed into a stamp) are unchanged, and
# npm and Go keep their downloads in their own caches (~/.npm, Go's module and build caches). A
# language whose toolchain (node/npm, go) is missing is skipped with a notice; its tests then skip.
# Measured on 2 cores after the CLI build: about 100 s the first time (npm ci 15-19 s, tsc 3 s, pip 5 s,
# generator 10 s, Go build of the example 60 s), under a second when nothing changed.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
say() { printf '[setup-sdk-examples] %s\n' "$*" >&2; }

# A hash of files (sorted by path) and extra words, for the stamps.
inputs_hash() {  # $1 = extra text; the rest: files and folders (node_modules, bin, build skipped)
  local extra="$1"; shift
  {
    printf '%s\n' "$extra"
    find "$@" \( -name node_modules -o -name bin -o -name build -o -name '*.egg-info' -o -name __pycache__ \) \
      -prune -o -type f -print | LC_ALL=C sort | while read -r f; do printf '%s\n' "$f"; cat "$f"; done
  } | sha256sum | cut -c1-32
}

timed() {  # $1 = what; the rest: the command
  local what="$1" start; shift
  start=$(date +%s)
  "$@"
  say "$what: $(( $(date +%s) - start )) s"
}

setup_python() {
  local stamp=.venv/.pulumi-kommo-sdk hash tmp start
  hash="$(inputs_hash "$(.venv/bin/python --version 2>&1)" sdk/python)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && .venv/bin/python -c 'import pulumi_kommo' 2>/dev/null; then
    return 0
  fi
  # From a copy, so the build leaves no build/ or *.egg-info in sdk/python. Its dependencies
  # (pulumi, semver, packaging, typing-extensions) are the project's own already.
  tmp="$(mktemp -d)"
  cp -R sdk/python/. "$tmp/"
  # The build's own chatter (setuptools' deprecation notice about the generated license table) is
  # shown only if the install fails.
  start=$(date +%s)
  if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall \
      "$tmp" 2>"$tmp.log"; then
    cat "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; return 1
  fi
  rm -rf "$tmp" "$tmp.log"
  say "pip install sdk/python (pulumi_kommo): $(( $(date +%s) - start )) s"
  printf '%s\n' "$hash" >"$stamp"
}

setup_typescript() {
  local dir=examples/typescript stamp hash
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    say "no node/npm on PATH: skipping the TypeScript example (install Node.js 20 or newer)"
    return 0
  fi
  stamp="$dir/node_modules/.kommo-setup"
  hash="$(inputs_hash "$(node --version) $(npm --version)" "$dir/package.json" "$dir/package-lock.json" \
    "$dir/.npmrc" "$dir/tsconfig.json" "$dir/index.ts" sdk/nodejs)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && [ -f "$dir/bin/index.js" ]; then
    return 0
  fi
  # npm ci: exactly the lockfile, and a fresh copy of sdk/nodejs (compiled by its postinstall script).
  # A different @types/node or typescript in the SDK's package.json needs `npm install` there once
  # to update the lockfile (scripts/gen-sdk.sh does it when it regenerates into sdk/).
  timed "npm ci in $dir" \
    npm --prefix "$dir" ci --no-audit --no-fund --prefer-offline --loglevel=error >&2
  if [ ! -f "$dir/node_modules/@kommo-provider/kommo/bin/index.js" ]; then
    # npm 12 is to skip install scripts that package.json's allowScripts does not list, and npm 11
    # matches a `file:` dependency there only by its absolute path.
    say "npm did not run the SDK's postinstall script (tsc): see 'npm install-scripts ls' in $dir"
    return 1
  fi
  timed "tsc of $dir" npm --prefix "$dir" run --silent build >&2
  printf '%s\n' "$hash" >"$stamp"
}

setup_go() {
  if ! command -v go >/dev/null 2>&1; then
    say "no go on PATH: skipping the SDK generator and the Go example (install Go 1.26 or newer)"
    return 0
  fi
  local stamp hash
  bash scripts/build-sdkgen.sh >/dev/null
  stamp="${XDG_CACHE_HOME:-$HOME/.cache}/kommo-provider/go-example.stamp"
  hash="$(inputs_hash "$(go version) $repo" examples/go sdk/go.mod sdk/go.sum sdk/go)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    return 0
  fi
  # Same flags as the tests' build (and the Pulumi CLI's), so this fills the Go build cache they use.
  timed "go build of examples/go" \
    bash -c 'cd examples/go && GOFLAGS=-mod=mod go build -trimpath -tags osusergo,grpcnotrace -o /dev/null .'
  mkdir -p "$(dirname "$stamp")"
  printf '%s\n' "$hash" >"$stamp"
}

[ -x .venv/bin/python ] || { say "no .venv: run scripts/bootstrap.sh"; exit 1; }
languages=("$@")
[ ${#languages[@]} -gt 0 ] || languages=(python typescript go)
for language in "${languages[@]}"; do
  case "$language" in
    python) setup_python ;;
    typescript) setup_typescript ;;
    go) setup_go ;;
    *) say "unknown language $language (python, typescript, go)"; exit 2 ;;
  esac
done
