"""AWS SSM Parameter Store for ``ssm:/name`` secret references: one decrypted ``GetParameter``
per fetch, and AWS's failures as one-line ``ConfigError``s that say what to do.

boto3 is the optional ``aws`` extra, imported on first use. Region and credentials come from the
standard AWS chain (``AWS_REGION`` or ``AWS_DEFAULT_REGION``; keys, profile, or the role of the
instance, task or function). Caching and the TTL belong to ``config.secrets``; nothing here logs,
and no error carries a value.
"""

from __future__ import annotations

import os
from typing import Any

from kt_jira.errors import ConfigError

INSTALL = "pip install 'kt-jira[aws]'"
# A fetch runs inside a request or a job: a slow SSM must not hold it for botocore's default
# minute per try and five tries. Two tries with short timeouts; the caller keeps its old value.
CLIENT_OPTIONS: dict[str, Any] = {
    "connect_timeout": 2,
    "read_timeout": 5,
    "retries": {"max_attempts": 2, "mode": "standard"},
}
_ACCESS_DENIED = ("AccessDeniedException", "AccessDenied")
_HINTS = {
    "ParameterNotFound": "create the parameter, or correct the name",
    "ParameterVersionNotFound": "name a version that exists",
    "AccessDenied": (
        "allow ssm:GetParameter on it to the bridge's role (and kms:Decrypt on the key of a "
        "SecureString)"
    ),
}


def get_parameter(name: str, *, where: str) -> str:
    """The value of parameter ``name``, decrypted; ``ConfigError`` naming ``where``, the
    parameter and AWS's error code when it cannot be read."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            NoRegionError,
        )
    except ImportError as exc:
        raise ConfigError(f"{where}: ssm:{name} needs boto3: {INSTALL}") from exc
    what = f"{where}: cannot read SSM parameter {name}"
    try:
        # A session per fetch (once per TTL): credentials and region are read afresh each time.
        session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
        client = session.client("ssm", config=Config(**CLIENT_OPTIONS))
        answer = client.get_parameter(Name=name, WithDecryption=True)
    except ClientError as exc:
        code = _code(exc.response)
        raise ConfigError(f"{what} ({code}): {_HINTS.get(code, 'see the AWS error')}") from exc
    except NoCredentialsError as exc:
        raise ConfigError(
            f"{what} (NoCredentialsError): no AWS credentials found; give the process a role, "
            "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"
        ) from exc
    except NoRegionError as exc:
        raise ConfigError(
            f"{what} (NoRegionError): no AWS region; set AWS_REGION (or AWS_DEFAULT_REGION)"
        ) from exc
    except BotoCoreError as exc:
        raise ConfigError(
            f"{what} ({type(exc).__name__}): SSM did not answer; check the network path to it"
        ) from exc
    return str(answer["Parameter"]["Value"]).strip()


def _code(response: Any) -> str:
    """AWS's error code; a 403 of any spelling is ``AccessDenied``."""
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    code = str(error.get("Code") or "Unknown")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _ACCESS_DENIED or status == 403 or code == "403":
        return "AccessDenied"
    return code
