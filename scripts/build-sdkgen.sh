#!/usr/bin/env bash
# Builds scripts/sdkgen (the SDK generator, a Go program using Pulumi's own code generators) once
# and caches the binary by a hash of its sources, go.mod, go.sum and the Go version:
#
#   scripts/build-sdkgen.sh        # prints the binary's path
#
# The build uses the flags of the Pulumi CLI build in scripts/get-pulumi.sh (-trimpath, tags
# osusergo,grpcnotrace) and the same module graph, so Go's build cache from that build is reused.
# Measured on 2 cores (Go modules already downloaded): 130 s with an empty Go build cache, 10 s right
# after the CLI build (only the code generators are new to the cache), nothing once cached here.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$repo/scripts/sdkgen"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/kommo-provider"
say() { printf '[build-sdkgen] %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  say "Go is needed to build the SDK generator (scripts/sdkgen): install Go 1.26 or newer"
  exit 1
fi
hash="$( { go version; cat "$src/go.mod" "$src/go.sum" "$src"/*.go; } | sha256sum | cut -c1-16)"
bin="$cache_root/sdkgen/$hash/sdkgen"
if [ ! -x "$bin" ]; then
  say "building the SDK generator into $bin (10 s after a CLI build, about 2 minutes on an empty Go cache)"
  start=$(date +%s)
  mkdir -p "$(dirname "$bin")"
  (cd "$src" && GOFLAGS=-mod=mod go build -trimpath -tags osusergo,grpcnotrace -ldflags "-s -w" -o "$bin.tmp.$$" .)
  mv "$bin.tmp.$$" "$bin"
  say "built in $(( $(date +%s) - start )) s"
  for old in "$cache_root"/sdkgen/*/; do  # builds of earlier sources
    [ "$old" = "$(dirname "$bin")/" ] || rm -rf "$old"
  done
fi
printf '%s\n' "$bin"
