#!/usr/bin/env bash
# Builds the kommo provider plugin as a standalone executable and packs it the way the Pulumi CLI
# downloads plugins:
#
#   scripts/build-plugin-archive.sh [OUT_DIR]          # default: dist/; prints the archive's path last
#   pulumi plugin install resource kommo <version> -f dist/pulumi-resource-kommo-v<version>-<os>-<arch>.tar.gz
#
# The archive holds `pulumi-resource-kommo` (`.exe` on Windows) at its root and its `_internal/`
# folder: a PyInstaller --onedir build carrying its own Python interpreter, this package and its
# runtime dependencies. It runs with nothing else installed: no Python, no venv, no network. It is
# built for the platform the script runs on (os linux/darwin/windows, arch amd64/arm64); the release
# workflow (.github/workflows/release.yml) runs it on one native runner per platform.
#
# PyInstaller runs in a build venv of its own (never .venv, so no dev tool can slip in), holding
# only PyInstaller and this package installed from a clean copy of its sources, as its wheel would
# install it. The emulator and its server (werkzeug), pytest and the dev tools are excluded, and the
# build fails if any of them ends up inside. Builds are cached by their inputs (the package sources,
# pyproject.toml, this script, the PyInstaller and Python versions, the platform) under
# ~/.cache/kommo-provider/plugin-build/; a cached build is copied to OUT_DIR in a second.
#
# Environment: PYTHON (the interpreter to build with; default python3, or python on Windows),
# KOMMO_PLUGIN_BUILD_CACHE (the cache folder), KOMMO_PLUGIN_REBUILD=1 (ignore the cached archive).
set -euo pipefail
PYINSTALLER_VERSION=6.22.3
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
say() { printf '[build-plugin-archive] %s\n' "$*" >&2; }

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  MINGW*|MSYS*|CYGWIN*) os=windows ;;
  *) say "unsupported OS $(uname -s): Pulumi plugins exist for linux, darwin and windows"; exit 1 ;;
esac
if [ -n "${PYTHON:-}" ]; then
  python="$PYTHON"
elif [ "$os" = windows ]; then
  python="$(command -v python || command -v python3)"
else
  python="$(command -v python3 || command -v python)"
fi
[ -n "$python" ] || { say "no Python found: set PYTHON to a Python 3.10+ interpreter"; exit 1; }

out="$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)"
cache="${KOMMO_PLUGIN_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kommo-provider/plugin-build}"
mkdir -p "$cache"
exe=pulumi-resource-kommo
if [ "$os" = windows ]; then exe=pulumi-resource-kommo.exe; fi

# Version, arch and the input hash, from the build interpreter (portable: no sha256sum on macOS;
# tr: Python on Windows ends its lines with CR LF).
read -r version arch pyver inputs venv_key < <(
  "$python" - "$repo" "$PYINSTALLER_VERSION" "$os" <<'PY' | tr -d '\r'
import hashlib, pathlib, platform, re, sys, sysconfig
repo, pyinstaller, os_name = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
version = re.search(r'^__version__ = "([^"]+)"', (repo / "kommo_provider/__init__.py").read_text(), re.M)[1]
if os_name == "linux" and not sysconfig.get_config_var("Py_ENABLE_SHARED"):
    sys.exit(f"{sys.executable} has no shared libpython, which PyInstaller bundles: use a Python built with "
             "--enable-shared (distribution and python.org builds are; for pyenv, "
             "PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install ...), named by PYTHON")
machine = platform.machine().lower()
arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
pyver = "%d.%d.%d" % sys.version_info[:3]
def digest(paths, *words):
    h = hashlib.sha256("\n".join(words).encode())
    for path in paths:
        h.update(path.relative_to(repo).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:20]
sources = sorted(p for p in (repo / "kommo_provider").rglob("*") if p.is_file()
                 and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo"))
platform_words = [pyinstaller, pyver, os_name, arch, sys.executable]
venv_key = digest([repo / "pyproject.toml"], *platform_words)
inputs = digest([*sources, repo / "pyproject.toml", repo / "scripts/build-plugin-archive.sh"], *platform_words)
print(version, arch, pyver, inputs, venv_key)
PY
)
[ -n "${venv_key:-}" ] || { say "could not read the version and inputs with $python"; exit 1; }
case "$arch" in amd64|arm64) ;; *) say "unsupported architecture $arch: Pulumi plugins exist for amd64 and arm64"; exit 1 ;; esac
name="pulumi-resource-kommo-v$version-$os-$arch.tar.gz"
cached="$cache/archives/$inputs/$name"

if [ -f "$cached" ] && [ "${KOMMO_PLUGIN_REBUILD:-}" != 1 ]; then
  cp "$cached" "$out/$name"
  say "cached build of $name (inputs $inputs): $(du -k "$out/$name" | cut -f1) KiB"
  echo "$out/$name"
  exit 0
fi

started=$(date +%s)
# The build venv: PyInstaller and this package's runtime dependencies; remade when pyproject.toml,
# PyInstaller, Python or the platform change.
venv="$cache/venv-$venv_key"
if [ "$os" = windows ]; then vpy="$venv/Scripts/python.exe"; else vpy="$venv/bin/python"; fi
if [ ! -f "$venv/.ready" ]; then
  say "creating the build venv with Python $pyver and PyInstaller $PYINSTALLER_VERSION"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$vpy" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$vpy" -m pip install --quiet --disable-pip-version-check "pyinstaller==$PYINSTALLER_VERSION"
  touch "$venv/.ready"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A clean copy of what the wheel is built from, so no build/ or *.egg-info lands in the checkout and
# nothing stale from an earlier build/ folder can reach the package.
mkdir -p "$work/src"
cp pyproject.toml README.md "$work/src/"
if [ -f LICENSE ]; then cp LICENSE "$work/src/"; fi
tar -C "$repo" --exclude=__pycache__ --exclude='*.pyc' -cf - kommo_provider | tar -C "$work/src" -xf -
say "installing kommo-provider $version into the build venv"
"$vpy" -m pip install --quiet --disable-pip-version-check "$work/src"

cat >"$work/entry.py" <<'PY'
"""Entry point of the frozen pulumi-resource-kommo executable."""
from kommo_provider.plugin.__main__ import main

raise SystemExit(main())
PY
excluded=(kommo_provider.emulator kommo_provider.cli werkzeug pytest _pytest hypothesis mypy ruff
          build twine PyInstaller setuptools pip tkinter debugpy)
pyinstaller_args=()
for module in "${excluded[@]}"; do pyinstaller_args+=(--exclude-module "$module"); done
# Symbol tables are a third of the size on Linux (libpython alone: 22 MiB unstripped). macOS binaries are
# signed and Windows ones are not stripped, so only Linux builds strip.
if [ "$os" = linux ]; then pyinstaller_args+=(--strip); fi
say "freezing with PyInstaller $PYINSTALLER_VERSION (--onedir)"
(cd "$work" && "$vpy" -m PyInstaller --noconfirm --onedir --console --log-level WARN \
  --name pulumi-resource-kommo --distpath "$work/dist" --workpath "$work/build" --specpath "$work" \
  --collect-data kommo_provider.plugin "${pyinstaller_args[@]}" entry.py)
bundle="$work/dist/pulumi-resource-kommo"

# What must not ship: the emulator, its HTTP server, the test and dev tools.
if leaked="$(cd "$bundle" && find . \( -path '*kommo_provider/emulator*' -o -path '*kommo_provider/cli*' \
    -o -iname 'werkzeug*' -o -iname 'pytest*' -o -iname '_pytest*' -o -iname 'hypothesis*' -o -iname 'mypy*' \
    -o -iname 'ruff*' -o -iname 'debugpy*' \) -print | head -5)" && [ -n "$leaked" ]; then
  say "the bundle holds what must not ship: $leaked"; exit 1
fi
# The frozen executable must run on its own, with an empty environment: --version, then the port line
# the engine waits for.
"$vpy" - "$bundle/$exe" "$version" <<'PY'
import os, subprocess, sys, threading, time
exe, version = sys.argv[1], sys.argv[2]
env = {k: v for k, v in os.environ.items() if k.upper() in ("SYSTEMROOT", "TEMP", "TMP")}
got = subprocess.run([exe, "--version"], capture_output=True, text=True, env=env, timeout=120).stdout.strip()
if got != version:
    sys.exit(f"{exe} --version printed {got!r}, expected {version!r}")
started = time.monotonic()
proc = subprocess.Popen([exe, "127.0.0.1:1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
lines = []
reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
reader.start()
reader.join(120)
elapsed = time.monotonic() - started
proc.kill()
_, err = proc.communicate()
if not lines or not lines[0].strip().isdigit():
    sys.exit(f"{exe} did not print its port: {lines!r}\n{err.decode(errors='replace')[-3000:]}")
print(f"[build-plugin-archive] the frozen plugin printed its port after {elapsed:.2f} s", file=sys.stderr)
PY

mkdir -p "$cache/archives/$inputs"
entries=("$exe" _internal)
tar -C "$bundle" -czf "$cache/archives/$inputs/$name.tmp" "${entries[@]}"
mv "$cache/archives/$inputs/$name.tmp" "$cached"
# Keep the three newest cached builds and the two newest build venvs (named by hex hashes, so ls is
# safe here).
# shellcheck disable=SC2012
(cd "$cache/archives" && ls -1t | tail -n +4 | while read -r old; do rm -rf "$old"; done)
# shellcheck disable=SC2012
(cd "$cache" && ls -1td venv-* | tail -n +3 | while read -r old; do rm -rf "$old"; done)
cp "$cached" "$out/$name"
unpacked_kib="$(du -sk "$bundle" | cut -f1)"
say "built $name in $(( $(date +%s) - started )) s: $(du -k "$out/$name" | cut -f1) KiB packed, $unpacked_kib KiB unpacked"
echo "$out/$name"
