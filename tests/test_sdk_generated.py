"""The SDKs under sdk/ are what scripts/gen-sdk.sh generates from the current schema, and git keeps them.

Regenerates every SDK into a temporary folder (the generator is built once and cached, see
scripts/build-sdkgen.sh) and compares it, file by file, with the files under sdk/ that git tracks or
would add. After a schema or version change: run scripts/gen-sdk.sh and commit sdk/.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from stack_runner import PROJECT_DIR

SDK = PROJECT_DIR / "sdk"


def _git(*args: str, stdin: str | None = None) -> list[str]:
    done = subprocess.run(
        ["git", *args], cwd=PROJECT_DIR, input=stdin, capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 1):  # check-ignore answers 1 when nothing is ignored
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return [line for line in done.stdout.splitlines() if line]


def _committable() -> dict[str, Path]:
    """sdk/ files as git sees them: tracked, or untracked and not ignored (what a commit would hold)."""
    if shutil.which("git") is None or not (PROJECT_DIR / ".git").exists():
        pytest.skip("not a git checkout")
    names = _git("ls-files", "--cached", "--others", "--exclude-standard", "--", "sdk")
    return {str(Path(n).relative_to("sdk")): PROJECT_DIR / n for n in names if (PROJECT_DIR / n).is_file()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, sdk_generator: Path) -> dict[str, Path]:
    """Every SDK as scripts/gen-sdk.sh writes it (it finds the generator ``sdk_generator`` built)."""
    out = tmp_path_factory.mktemp("sdk")
    done = subprocess.run(
        ["bash", str(PROJECT_DIR / "scripts" / "gen-sdk.sh"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,  # a first build of the generator with an empty Go cache takes minutes
    )
    assert done.returncode == 0, f"scripts/gen-sdk.sh failed:\n{done.stderr}"
    return {str(p.relative_to(out)): p for p in sorted(out.rglob("*")) if p.is_file()}


def test_every_sdk_is_generated(generated: dict[str, Path]) -> None:
    expected = ["nodejs/package.json", "python/pyproject.toml", "go/kommo/provider.go", "go.mod", "go.sum"]
    assert all(name in generated for name in expected)


def test_committed_sdks_match_the_schema(generated: dict[str, Path]) -> None:
    committed = _committable()
    changed = sorted(n for n in generated.keys() & committed.keys()
                     if generated[n].read_bytes() != committed[n].read_bytes())  # fmt: skip
    missing = sorted(generated.keys() - committed.keys())
    stale = sorted(committed.keys() - generated.keys())
    problems = [
        f"{what}: {', '.join('sdk/' + n for n in names)}"
        for what, names in (
            ("differ from the generator's output", changed),
            ("generated but absent from sdk/ (or ignored by git)", missing),
            ("in sdk/ but no longer generated", stale),
        )
        if names
    ]
    advice = "sdk/ is out of date; run scripts/gen-sdk.sh and commit sdk/."
    assert not problems, "\n".join([advice, *problems])


def test_no_generated_file_is_ignored_by_git(generated: dict[str, Path]) -> None:
    paths = "\n".join(f"sdk/{n}" for n in generated) + "\n"
    ignored = _git("check-ignore", "--no-index", "--stdin", stdin=paths)
    assert not ignored, f".gitignore hides generated files that must be committed: {ignored}"
