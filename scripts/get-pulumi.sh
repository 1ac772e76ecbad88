#!/usr/bin/env bash
# Puts a Pulumi CLI (and the dynamic-provider launcher it needs) into .tools/bin of this repository.
#
# Order of preference:
#   1. a `pulumi` already on PATH (installed the usual way): linked into .tools/bin;
#   2. a CLI built earlier by this script, cached by version under ~/.cache/kommo-provider/pulumi/;
#   3. a fresh build from Pulumi's published Go module (needs Go and the Go module proxy);
#   4. otherwise: the official install instructions and exit 1.
#
# Then Pulumi YAML's language host, `pulumi-language-yaml` (the CLI starts it for a `runtime: yaml`
# program such as examples/yaml), the same way: from PATH, from the cache, or built from its
# published Go module, which has no replace directives and so can be `go install`ed.
#
# `go install github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@vX` is refused by Go because that module's
# go.mod has replace directives, so the build uses a throwaway module that requires pkg/v3 and sdk/v3
# at the same version and carries over the non-local replace. The version is set at link time:
# without it `pulumi version` prints nothing and the Automation API refuses to run.
set -euo pipefail

PULUMI_VERSION="${KOMMO_PULUMI_VERSION:-v3.274.1}"
YAML_VERSION="${KOMMO_PULUMI_YAML_VERSION:-v1.25.0}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$repo/.tools/bin"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/kommo-provider"
cache="$cache_root/pulumi/$PULUMI_VERSION"
yaml_cache="$cache_root/pulumi-yaml/$YAML_VERSION"

say() { printf '[get-pulumi] %s\n' "$*" >&2; }

link_into_tools() {  # $1 = directory holding pulumi and pulumi-resource-pulumi-python
  mkdir -p "$tools"
  for f in "$1"/pulumi*; do ln -sfn "$f" "$tools/$(basename "$f")"; done
}

write_launcher() {  # the equivalent of the launcher shipped in Pulumi's release archive
  cat >"$1" <<'SH'
#!/bin/sh
# Starts the Python dynamic-provider host with the project's interpreter.
# Same behaviour as pulumi-resource-pulumi-python in Pulumi's release archive.
if [ -n "${PULUMI_RUNTIME_VIRTUALENV:-}" ]; then
  case "$PULUMI_RUNTIME_VIRTUALENV" in /*) venv="$PULUMI_RUNTIME_VIRTUALENV" ;; *) venv="$(pwd)/$PULUMI_RUNTIME_VIRTUALENV" ;; esac
  if [ ! -x "$venv/bin/python" ]; then
    echo "The 'virtualenv' option in Pulumi.yaml is set to \"$PULUMI_RUNTIME_VIRTUALENV\", but $venv does not exist." >&2
    echo "Create it with: python3 -m venv $venv && $venv/bin/pip install -e ." >&2
    exit 1
  fi
  PATH="$venv/bin:$PATH"; export PATH; unset PYTHONHOME
  exec "$venv/bin/python" -u -m pulumi.dynamic "$@"
fi
exec "${PULUMI_PYTHON_CMD:-python3}" -u -m pulumi.dynamic "$@"
SH
  chmod +x "$1"
}

without_tools_path() {  # PATH without our own .tools/bin, so a tool found there is a real installation
  printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$tools" | paste -sd: -
}

get_yaml_host() {
  mkdir -p "$tools"
  local existing start
  if existing="$(PATH="$(without_tools_path)" command -v pulumi-language-yaml 2>/dev/null)"; then
    say "using Pulumi YAML's language host on PATH: $existing"
    ln -sfn "$existing" "$tools/pulumi-language-yaml"
    return 0
  fi
  if [ ! -x "$yaml_cache/bin/pulumi-language-yaml" ]; then
    if ! command -v go >/dev/null 2>&1; then
      say "no pulumi-language-yaml and no Go to build it: YAML programs (examples/yaml) will not run"
      return 0
    fi
    say "building Pulumi YAML's language host $YAML_VERSION from its Go module (first build: 1.5-3 minutes on 2 cores)"
    start=$(date +%s)
    rm -rf "$yaml_cache/bin.tmp"
    GOBIN="$yaml_cache/bin.tmp" GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
      "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$YAML_VERSION"
    rm -rf "$yaml_cache/bin" && mv "$yaml_cache/bin.tmp" "$yaml_cache/bin"
    say "built pulumi-language-yaml $YAML_VERSION in $(( $(date +%s) - start )) s into $yaml_cache/bin"
  else
    say "using the cached pulumi-language-yaml $YAML_VERSION from $yaml_cache/bin"
  fi
  # The CLI treats a language host next to its own binary as bundled and warns about any other
  # copy found on PATH, so the host goes beside the pulumi binary when that folder is ours.
  local cli_dir
  cli_dir="$(dirname "$(readlink -f "$tools/pulumi")")"
  if [ "$cli_dir" = "$cache/bin" ]; then
    install -m 0755 "$yaml_cache/bin/pulumi-language-yaml" "$cli_dir/pulumi-language-yaml"
    ln -sfn "$cli_dir/pulumi-language-yaml" "$tools/pulumi-language-yaml"
  else
    ln -sfn "$yaml_cache/bin/pulumi-language-yaml" "$tools/pulumi-language-yaml"
  fi
}

# 1. A CLI on PATH (outside our own .tools) wins.
if existing="$(PATH="$(without_tools_path)" command -v pulumi 2>/dev/null)"; then
  dir="$(dirname "$(readlink -f "$existing")")"
  say "using the Pulumi CLI on PATH: $existing ($("$existing" version 2>/dev/null || echo 'unknown version'))"
  link_into_tools "$dir"
  [ -x "$tools/pulumi-resource-pulumi-python" ] || write_launcher "$tools/pulumi-resource-pulumi-python"
  get_yaml_host
  exit 0
fi

# 2. A cached build.
if [ -x "$cache/bin/pulumi" ] && [ -x "$cache/bin/pulumi-resource-pulumi-python" ]; then
  say "using the cached Pulumi CLI $PULUMI_VERSION from $cache/bin"
  link_into_tools "$cache/bin"
  get_yaml_host
  exit 0
fi

# 3. Build from the Go module.
if ! command -v go >/dev/null 2>&1; then
  say "no Pulumi CLI on PATH and no Go toolchain to build one."
  say "Install the CLI as Pulumi documents it (https://www.pulumi.com/docs/iac/download-install/),"
  say "e.g. 'curl -fsSL https://get.pulumi.com | sh', then run this command again."
  exit 1
fi

say "building the Pulumi CLI $PULUMI_VERSION from its Go module (first build: about 8 minutes on 2 cores; cached afterwards)"
start=$(date +%s)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
cat >go.mod <<MOD
module kommo-provider/pulumi-build

go 1.26

require (
	github.com/pulumi/pulumi/pkg/v3 $PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 $PULUMI_VERSION
)

// Carried over from pkg/v3's own go.mod (its local '../sdk' replace is served by the require above).
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
MOD
cat >tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
GOFLAGS=-mod=mod go mod tidy
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
mkdir -p "$cache/bin.tmp"
GOFLAGS=-mod=mod go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" \
  -o "$cache/bin.tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

# The launcher script ships inside the sdk/v3 module; fall back to an equivalent if it is absent.
sdkdir="$(GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
for script in dist/pulumi-resource-pulumi-python cmd/pulumi-language-python-exec; do
  if [ -f "$sdkdir/python/$script" ]; then
    install -m 0755 "$sdkdir/python/$script" "$cache/bin.tmp/$(basename "$script")"
  fi
done
# The Python language host (needed only for `pulumi up` run straight on the project directory) is a
# module of its own that the Go module proxy does not serve; the Automation API's inline programs,
# which the demo and the tests use, need no language host.
[ -x "$cache/bin.tmp/pulumi-resource-pulumi-python" ] || write_launcher "$cache/bin.tmp/pulumi-resource-pulumi-python"

rm -rf "$cache/bin" && mv "$cache/bin.tmp" "$cache/bin"
say "built $("$cache/bin/pulumi" version) in $(( $(date +%s) - start )) s into $cache/bin"
link_into_tools "$cache/bin"
cd "$repo"
get_yaml_host
