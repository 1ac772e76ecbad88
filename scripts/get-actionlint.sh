#!/usr/bin/env bash
# Puts actionlint, the GitHub Actions workflow checker, in a cache and prints its path:
#
#   scripts/get-actionlint.sh                       # e.g. ~/.cache/kommo-provider/actionlint/v1.7.12/actionlint
#   "$(scripts/get-actionlint.sh)" .github/workflows/release.yml
#
# From PATH when it is there at the pinned version, else built once with `go install` from its
# published Go module (about a minute on 2 cores; Go's module and build caches are reused) and
# cached by version. tests/test_packaging.py runs it on the release workflow.
set -euo pipefail
VERSION="${KOMMO_ACTIONLINT_VERSION:-v1.7.12}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/kommo-provider/actionlint/$VERSION"
say() { printf '[get-actionlint] %s\n' "$*" >&2; }

if existing="$(command -v actionlint 2>/dev/null)" && [ "$("$existing" -version 2>/dev/null | head -1)" = "${VERSION#v}" ]; then
  echo "$existing"
  exit 0
fi
if [ ! -x "$cache/actionlint" ]; then
  if ! command -v go >/dev/null 2>&1; then
    say "no actionlint $VERSION and no Go to build it: install Go 1.26 or newer"
    exit 1
  fi
  say "building actionlint $VERSION from its Go module into $cache"
  start=$(date +%s)
  rm -rf "$cache.tmp"
  GOBIN="$cache.tmp" GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
    "github.com/rhysd/actionlint/cmd/actionlint@$VERSION"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
  say "built actionlint $VERSION in $(( $(date +%s) - start )) s"
fi
echo "$cache/actionlint"
