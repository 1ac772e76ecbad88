#!/usr/bin/env bash
# Records the upgrade fixtures of one release again: its stacks in tests/fixtures/upgrade/<version>/,
# brought up by that release.
#
#   scripts/record-upgrade-fixtures.sh COMMIT
#
#   scripts/record-upgrade-fixtures.sh 722407e      # 0.2.0: 0.2.0/dynamic, 0.2.0/yaml
#   scripts/record-upgrade-fixtures.sh 27410a8      # 0.3.0: 0.3.0/accounts
#
# The release's kommo_provider.__version__ picks its folder and stacks (RELEASES in
# tests/fixtures/upgrade/upgrade_stacks.py); the other releases' folders are left as they are. After a
# release, describe its stacks in a release_<version>.py there, name it in RELEASES, and record it.
#
# Checks COMMIT out as a git worktree in a temporary folder outside the repository, makes a venv there
# with that release installed (its kommo-chat and pulumi-resource-kommo are then that release's; the
# Pulumi SDK pinned to the version in .venv, so both sides use one SDK), and runs
# tests/fixtures/upgrade/record.py with it, the Pulumi CLI and YAML language host from .tools/bin on
# PATH. The worktree and the venv are removed at the end, whatever happens. Needs .venv (scripts/
# bootstrap.sh) and PyPI for the release's dependencies. Review the diff: it is what the test replays.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$#" -ne 1 ] || [ "${1:0:1}" = "-" ]; then
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
commit="$1"

say() { printf '[record-upgrade-fixtures] %s\n' "$*" >&2; }

bash "$repo/scripts/get-pulumi.sh"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/kommo-upgrade-record.XXXXXX")"
tree="$scratch/release"
cleanup() {
  git -C "$repo" worktree remove --force "$tree" 2>/dev/null || true
  git -C "$repo" worktree prune
  rm -rf "$scratch"
}
trap cleanup EXIT

say "release: $commit, checked out in $tree"
git -C "$repo" worktree add --detach "$tree" "$commit" >/dev/null 2>&1
"$repo/.venv/bin/python" -m venv "$tree/.venv"
sdk="$("$repo/.venv/bin/python" -c 'import importlib.metadata as m; print(m.version("pulumi"))')"
say "installing the release with pulumi==$sdk"
# The emulator's werkzeug is the `emulator` extra from 0.3.0 on (0.2.0 has no such extra and installs
# werkzeug anyway; pip only notes the unknown extra).
"$tree/.venv/bin/pip" install --quiet --disable-pip-version-check "pulumi==$sdk" -e "${tree}[emulator]"

# Nothing of this checkout may be imported by the release's processes: no PYTHONPATH from outside.
cd "$scratch"
env -u PYTHONPATH PATH="$repo/.tools/bin:$PATH" KOMMO_RECORDED_COMMIT="$(git -C "$tree" rev-parse HEAD)" \
  "$tree/.venv/bin/python" "$repo/tests/fixtures/upgrade/record.py"
