"""Offline AWS for tests: fake credentials and region, moto's SSM in-process, and nothing that
could reach AWS (no config files, no instance metadata).

Public test helper:

    def test_x(monkeypatch, tmp_path):
        offline_aws(monkeypatch, tmp_path)
        with mocked_ssm({"/kt-jira/token": "s3cret"}) as ssm:
            ...  # ssm: references resolve against moto; ssm.put_parameter(...) rotates
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

REGION = "eu-west-1"


def offline_aws(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *,
    credentials: bool = True,
    region: bool = True,
) -> None:
    """An AWS environment of fakes: every ``AWS_*`` variable of the machine removed, no config
    or credentials file, no instance metadata, then fake keys and ``AWS_REGION`` (unless
    told not to, to test their absence)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if credentials:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    if region:
        monkeypatch.setenv("AWS_REGION", REGION)


@contextmanager
def mocked_ssm(parameters: dict[str, str] | None = None) -> Iterator[Any]:
    """moto's SSM with ``parameters`` stored as SecureStrings; yields a client to change them."""
    with mock_aws():
        client = boto3.client("ssm", region_name=REGION)
        for name, value in (parameters or {}).items():
            put_secret(client, name, value)
        yield client


def put_secret(client: Any, name: str, value: str) -> None:
    """Store (or overwrite: a rotation) ``name`` as a SecureString."""
    client.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
