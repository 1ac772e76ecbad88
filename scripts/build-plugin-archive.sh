#!/usr/bin/env bash
# Builds the kommo provider plugin archive that `pulumi plugin install` takes:
#
#   scripts/build-plugin-archive.sh [OUT_DIR]          # default: dist/
#   pulumi plugin install resource kommo <version> -f dist/pulumi-resource-kommo-v<version>-<os>-<arch>.tar.gz
#
# The archive holds the launcher `pulumi-resource-kommo` and, under vendor/, this package with every
# dependency installed for the Python that builds it (grpcio is compiled per Python version and
# platform). At run time the launcher needs a python3 of that same minor version on PATH, or one named
# by KOMMO_PROVIDER_PYTHON; nothing is downloaded then.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
say() { printf '[build-plugin-archive] %s\n' "$*" >&2; }

python="${PYTHON:-$repo/.venv/bin/python}"
[ -x "$python" ] || python="$(command -v python3)"
out="$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)"
version="$(PYTHONPATH="$repo" "$python" -c 'from kommo_provider import __version__; print(__version__)')"
pyver="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
os="$(uname -s | tr '[:upper:]' '[:lower:]')"
case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
archive="$out/pulumi-resource-kommo-v$version-$os-$arch.tar.gz"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
say "installing kommo-provider $version and its dependencies for Python $pyver"
"$python" -m pip install --quiet --disable-pip-version-check --no-compile --target "$stage/vendor" "$repo"
rm -rf "$stage/vendor/bin"  # console scripts hold the build machine's interpreter path

cat >"$stage/pulumi-resource-kommo" <<SH
#!/bin/sh
# The kommo Pulumi provider plugin $version. The Pulumi CLI starts it with the engine's address.
# Runs the bundled kommo_provider (vendor/, built for Python $pyver) with a matching python3.
dir=\$(CDPATH= cd -- "\$(dirname -- "\$0")" && pwd)
want=$pyver
py="\${KOMMO_PROVIDER_PYTHON:-}"
if [ -z "\$py" ]; then
  for candidate in "python\$want" python3; do
    if command -v "\$candidate" >/dev/null 2>&1 &&
       [ "\$("\$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "\$want" ]; then
      py="\$candidate"; break
    fi
  done
fi
if [ -z "\$py" ]; then
  echo "pulumi-resource-kommo: needs Python \$want (python\$want or python3 on PATH, or KOMMO_PROVIDER_PYTHON)" >&2
  exit 1
fi
# PYTHONSAFEPATH keeps the project folder (the plugin's working directory) off sys.path.
PYTHONPATH="\$dir/vendor" PYTHONNOUSERSITE=1 PYTHONSAFEPATH=1 exec "\$py" -m kommo_provider.plugin "\$@"
SH
chmod 0755 "$stage/pulumi-resource-kommo"
cp LICENSE "$stage/" 2>/dev/null || true

tar -C "$stage" -czf "$archive" .
say "built $archive ($(du -h "$archive" | cut -f1))"
echo "$archive"
