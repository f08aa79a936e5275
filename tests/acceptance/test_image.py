"""Acceptance: deploy/Dockerfile builds an image whose ``kt-jira`` runs as a non-root user.

Only where ``docker`` is installed and its daemon answers, and the base image can be pulled;
otherwise the test is skipped with the reason (the suite never depends on Docker).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from kt_jira import __version__

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PULL_FAILED = re.compile(
    r"pull access denied|failed to resolve source metadata|failed to do request|dial tcp|"
    r"TLS handshake timeout|i/o timeout|no such host|toomanyrequests|Temporary failure in name",
)


def _docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_the_image_builds_and_runs_kt_jira_as_a_service_user() -> None:
    """``docker build -f deploy/Dockerfile .`` succeeds; in the image ``kt-jira version`` prints
    this version and the default user is not root."""
    if shutil.which("docker") is None:
        pytest.skip("docker is not installed")
    info = _docker("info", "--format", "{{.ServerVersion}}")
    if info.returncode != 0:
        first = (info.stderr.strip().splitlines() or ["no answer"])[0]
        pytest.skip(f"the docker daemon is not reachable: {first}")
    tag = f"kt-jira-test:{uuid.uuid4().hex[:12]}"
    dockerfile = str(ROOT / "deploy" / "Dockerfile")
    built = _docker("build", "-f", dockerfile, "-t", tag, str(ROOT), timeout=900)
    try:
        if built.returncode != 0:
            output = built.stdout + built.stderr
            if PULL_FAILED.search(output):
                reason = "the base image or the package index is not reachable"
                pytest.skip(f"{reason}: {output[-300:]}")
            raise AssertionError(f"docker build failed:\n{output}")
        version = _docker("run", "--rm", tag, "version")
        assert version.returncode == 0, version.stderr
        assert version.stdout.strip() == __version__
        uid = _docker("run", "--rm", "--entrypoint", "id", tag, "-u")
        assert uid.returncode == 0, uid.stderr
        assert uid.stdout.strip() != "0"
    finally:
        _docker("image", "rm", "--force", tag)
