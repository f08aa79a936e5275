"""scripts/fetch-contracts, run on a copy of itself in a fake checkout with stand-ins for npm and
curl on PATH: what it installs, what it refuses, and what it says. No network."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.contracts import (
    ADF_SCHEMA,
    CONTRACTS_DIR_ENV,
    OPENAPI_SPEC,
    PINS_FILE,
    REPO_ROOT,
    find_contract,
)

SCRIPT = Path("scripts") / "fetch-contracts"
PINNED_ADF = b'{"stand-in": "adf schema"}\n'
PINNED_OPENAPI = b'{"stand-in": "openapi"}\n'
NEW_ADF = b'{"stand-in": "adf schema, next release"}\n'
OPENAPI_URL = "https://dac-static.atlassian.com/cloud/jira/platform/swagger-v3.v3.json"

# Stand-in npm: `npm pack <spec>` writes a tarball holding $FAKE_ADF as the schema.
FAKE_NPM = """#!/bin/sh
mkdir -p package/dist/json-schema/v1
cp "$FAKE_ADF" package/dist/json-schema/v1/full.json
tar -czf atlaskit-adf-schema-57.7.22.tgz package && rm -rf package
echo atlaskit-adf-schema-57.7.22.tgz
"""
# Stand-in curl: serves $FAKE_OPENAPI to `-o FILE`, or fails like this sandbox's DNS does.
FAKE_CURL = """#!/bin/sh
[ -n "$FAKE_OPENAPI" ] || { echo "curl: (6) Could not resolve host" >&2; exit 6; }
while [ "$#" -gt 0 ]; do [ "$1" = -o ] && out="$2"; shift; done
cp "$FAKE_OPENAPI" "$out"
"""

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "tar", "sha256sum", "awk")),
    reason="scripts/fetch-contracts needs bash, tar, sha256sum and awk",
)


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A checkout holding only the script and a pins file for the stand-in contracts."""
    checkout = tmp_path / "repo"
    _executable(checkout / SCRIPT, (REPO_ROOT / SCRIPT).read_text(encoding="utf-8"))
    (checkout / PINS_FILE).write_text(
        "# pins\n"
        f"{_sha256(PINNED_ADF)}  {ADF_SCHEMA.filename}\n"
        f"{_sha256(PINNED_OPENAPI)}  {OPENAPI_SPEC.filename}\n",
        encoding="utf-8",
    )
    _executable(tmp_path / "bin" / "npm", FAKE_NPM)
    _executable(tmp_path / "bin" / "curl", FAKE_CURL)
    return checkout


def _fetch(
    root: Path, adf: bytes, openapi: bytes | None, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run the script with the stand-ins serving ``adf`` and ``openapi`` (None: unreachable)."""
    served = root.parent / "served"
    served.mkdir(exist_ok=True)
    (served / "adf.json").write_bytes(adf)
    env = {key: value for key, value in os.environ.items() if key != CONTRACTS_DIR_ENV}
    env["PATH"] = f"{root.parent / 'bin'}{os.pathsep}{env['PATH']}"
    env["FAKE_ADF"] = str(served / "adf.json")
    env["FAKE_OPENAPI"] = ""
    if openapi is not None:
        (served / "openapi.json").write_bytes(openapi)
        env["FAKE_OPENAPI"] = str(served / "openapi.json")
    return subprocess.run(
        [str(root / SCRIPT), *args], env=env, capture_output=True, text=True, check=False
    )


def test_unreachable_atlassian_still_installs_the_schema_and_says_what_to_do(root: Path) -> None:
    """The ADF schema is installed; the spec's failure exits 1 with the URL, path and variable."""
    run = _fetch(root, PINNED_ADF, None)
    assert run.returncode == 1
    assert (root / ".contracts" / ADF_SCHEMA.filename).read_bytes() == PINNED_ADF
    assert not (root / ".contracts" / OPENAPI_SPEC.filename).exists()
    assert OPENAPI_URL in run.stderr
    assert str(root / ".contracts" / OPENAPI_SPEC.filename) in run.stderr
    assert OPENAPI_SPEC.env in run.stderr


def test_changed_upstream_file_is_not_installed(root: Path) -> None:
    """A download that is not the pinned version is refused, naming both hashes and the way on."""
    run = _fetch(root, NEW_ADF, PINNED_OPENAPI)
    assert run.returncode == 1
    assert not (root / ".contracts" / ADF_SCHEMA.filename).exists()
    assert (root / ".contracts" / OPENAPI_SPEC.filename).read_bytes() == PINNED_OPENAPI
    for expected in (_sha256(NEW_ADF), _sha256(PINNED_ADF), "--accept-new"):
        assert expected in run.stderr


def test_accept_new_installs_and_repins(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--accept-new installs the changed file and re-pins it, so the tests then accept the cache."""
    pins_before = (root / PINS_FILE).read_text(encoding="utf-8")
    run = _fetch(root, NEW_ADF, PINNED_OPENAPI, "--accept-new")
    assert run.returncode == 0, run.stderr
    pins_after = (root / PINS_FILE).read_text(encoding="utf-8")
    assert pins_after == pins_before.replace(_sha256(PINNED_ADF), _sha256(NEW_ADF))
    monkeypatch.delenv(ADF_SCHEMA.env, raising=False)
    monkeypatch.delenv(CONTRACTS_DIR_ENV, raising=False)
    found = find_contract(ADF_SCHEMA, root)
    assert (found.source, found.is_pinned) == ("the cache", True)


def test_unknown_option_is_a_usage_error(root: Path) -> None:
    """Anything but --accept-new or --help exits 2 with the usage, fetching nothing."""
    run = _fetch(root, PINNED_ADF, PINNED_OPENAPI, "--force")
    assert run.returncode == 2
    assert "usage: scripts/fetch-contracts [--accept-new]" in run.stderr
    assert not (root / ".contracts").exists()
