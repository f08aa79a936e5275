"""``ssm:`` secret references against moto's SSM: decrypted values, the TTL that picks up a
rotation, the last value kept through a failed refresh, and errors that say what to fix."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import boto3
import pytest
from moto.core import set_initial_no_auth_action_count
from structlog.testing import capture_logs

from kt_jira.config.loader import load_settings
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import ConfigError
from tests.support.aws import REGION, mocked_ssm, offline_aws, put_secret
from tests.support.clock import ManualClock

TOKEN = "/kt-jira/jira-token"


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    offline_aws(monkeypatch, tmp_path)


def _token(tmp_path: Path, clock: ManualClock, *, ttl: str | None = None) -> SecretRef:
    """``jira.api_token: ssm:/kt-jira/jira-token`` loaded from a file, on ``clock``."""
    text = f"jira: {{api_token: 'ssm:{TOKEN}'}}\n"
    if ttl:
        text += f"secrets: {{ssm_ttl: {ttl}}}\n"
    path = tmp_path / "kt-jira.yaml"
    path.write_text(text, encoding="utf-8")
    token = load_settings(path, environ={}).jira.api_token
    assert token is not None
    token.clock = lambda: clock.now.timestamp()
    return token


def test_a_securestring_is_read_decrypted(tmp_path: Path) -> None:
    """An ssm: reference reveals the parameter's plain value, and repr shows only the name."""
    with mocked_ssm({TOKEN: "first-token"}):
        token = _token(tmp_path, ManualClock())
        assert token.reveal() == "first-token"
    assert repr(token) == f"SecretRef('ssm:{TOKEN}')"


def test_a_rotated_value_is_used_once_the_ttl_has_passed(tmp_path: Path) -> None:
    """Within secrets.ssm_ttl the fetched value is reused; after it the new one is fetched."""
    clock = ManualClock()
    with mocked_ssm({TOKEN: "first-token"}) as ssm:
        token = _token(tmp_path, clock, ttl="1m")
        assert token.ttl == 60
        assert token.reveal() == "first-token"
        put_secret(ssm, TOKEN, "second-token")
        clock.advance(seconds=59)
        assert token.reveal() == "first-token"
        clock.advance(seconds=2)
        assert token.reveal() == "second-token"


def test_the_ttl_defaults_to_five_minutes_and_follows_the_environment(tmp_path: Path) -> None:
    """Without secrets.ssm_ttl a value lasts 300 s; KT_JIRA__SECRETS__SSM_TTL overrides it."""
    path = tmp_path / "kt-jira.yaml"
    path.write_text(f"jira: {{api_token: 'ssm:{TOKEN}'}}\n", encoding="utf-8")
    default = load_settings(path, environ={}).jira.api_token
    overridden = load_settings(path, environ={"KT_JIRA__SECRETS__SSM_TTL": "30s"}).jira.api_token
    assert (default.ttl, overridden.ttl) == (300, 30)  # type: ignore[union-attr]


def test_a_failed_refresh_keeps_the_last_value_and_warns(tmp_path: Path) -> None:
    """SSM failing after the TTL does not fail the caller: the old value is served and
    ``secret.refresh_failed`` names the key and reference, never the value."""
    clock = ManualClock()
    with mocked_ssm({TOKEN: "first-token"}) as ssm:
        token = _token(tmp_path, clock)
        assert token.reveal() == "first-token"
        ssm.delete_parameter(Name=TOKEN)
        clock.advance(minutes=6)
        with capture_logs() as logs:
            assert token.reveal() == "first-token"
            put_secret(ssm, TOKEN, "second-token")
            clock.advance(minutes=1)
            assert token.reveal() == "first-token"  # the failure counts as a fetch: no retry storm
            clock.advance(minutes=5)
            assert token.reveal() == "second-token"
    [warning] = [entry for entry in logs if entry["event"] == "secret.refresh_failed"]
    assert (warning["key"], warning["reference"]) == ("jira.api_token", f"ssm:{TOKEN}")
    assert "ParameterNotFound" in warning["error"]
    assert "first-token" not in json.dumps(logs, default=str)


def test_a_missing_parameter_names_the_key_the_parameter_and_the_code(tmp_path: Path) -> None:
    """With nothing cached, a parameter that does not exist is a ConfigError saying so."""
    with mocked_ssm(), pytest.raises(ConfigError) as caught:
        _token(tmp_path, ManualClock()).reveal()
    message = str(caught.value)
    assert message.startswith(f"jira.api_token: cannot read SSM parameter {TOKEN}")
    assert "(ParameterNotFound)" in message


def test_access_denied_says_which_permissions_to_grant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A role without ssm:GetParameter gets AccessDenied, and the error names the permissions."""
    token = _token(tmp_path, ManualClock())

    @set_initial_no_auth_action_count(4)  # the set-up below runs as root; then IAM applies
    def run() -> str:
        with mocked_ssm({TOKEN: "first-token"}):
            iam = boto3.client("iam", region_name=REGION)
            iam.create_user(UserName="bridge")
            policy = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ssm:DescribeParameters", "Resource": "*"}
            ]}  # fmt: skip
            iam.put_user_policy(
                UserName="bridge", PolicyName="no-read", PolicyDocument=json.dumps(policy)
            )
            key = iam.create_access_key(UserName="bridge")["AccessKey"]
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
            with pytest.raises(ConfigError) as caught:
                token.reveal()
            return str(caught.value)

    message = run()
    assert f"SSM parameter {TOKEN} (AccessDenied)" in message
    assert "ssm:GetParameter" in message
    assert "kms:Decrypt" in message


@pytest.mark.parametrize(
    ("credentials", "region", "code", "fix"),
    [
        (False, True, "NoCredentialsError", "AWS_ACCESS_KEY_ID"),
        (True, False, "NoRegionError", "AWS_REGION"),
    ],
)
def test_missing_credentials_or_region_say_what_to_set(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    credentials: bool,
    region: bool,
    code: str,
    fix: str,
) -> None:
    """No credentials anywhere, or no region: a ConfigError naming the key, the cause and the
    variable to set (nothing is sent anywhere)."""
    offline_aws(monkeypatch, tmp_path, credentials=credentials, region=region)
    with pytest.raises(ConfigError) as caught:
        _token(tmp_path, ManualClock()).reveal()
    message = str(caught.value)
    assert message.startswith("jira.api_token: ")
    assert f"({code})" in message
    assert fix in message


def test_without_boto3_the_error_says_which_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build without the aws extra explains how to add it instead of an ImportError."""
    monkeypatch.setitem(sys.modules, "boto3", None)  # what `import boto3` finds: not installed
    with pytest.raises(ConfigError, match=r"jira\.api_token: .*pip install 'kt-jira\[aws\]'"):
        _token(tmp_path, ManualClock()).reveal()
