"""Synthetic AWS Lambda invocations: API Gateway events as AWS documents them (HTTP API payload
2.0 and REST API proxy integration) and a Lambda context with a fixed time left.

Public test helper:

    event = http_api_event("POST", "/webhooks/keeptrusts", body, headers, base64=True)
    aws_lambda.handler(event, LambdaContext(remaining_ms=30_000))
"""

from __future__ import annotations

import base64 as b64
from dataclasses import dataclass
from typing import Any

API_ID = "k7tjira123"
DOMAIN = f"{API_ID}.execute-api.eu-west-1.amazonaws.com"
SOURCE_IP = "203.0.113.7"
TIME = "04/Dec/2026:12:00:00 +0000"
EPOCH_MS = 1796385600000


@dataclass
class LambdaContext:
    """The parts of the Lambda context object the handlers and Mangum read."""

    remaining_ms: int = 60_000
    function_name: str = "kt-jira"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def _body(body: bytes, base64: bool) -> str:
    return b64.b64encode(body).decode("ascii") if base64 else body.decode("utf-8")


def http_api_event(
    method: str, path: str, body: bytes, headers: dict[str, str], *, base64: bool = False
) -> dict[str, Any]:
    """An HTTP API (API Gateway v2) event, payload format 2.0: lower-case headers."""
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "host": DOMAIN,
            "user-agent": "Keeptrusts-Webhooks/1.0",
            "x-forwarded-for": SOURCE_IP,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            **{name.lower(): value for name, value in headers.items()},
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": DOMAIN,
            "domainPrefix": API_ID,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": SOURCE_IP,
                "userAgent": "Keeptrusts-Webhooks/1.0",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": TIME,
            "timeEpoch": EPOCH_MS,
        },
        "body": _body(body, base64),
        "isBase64Encoded": base64,
    }


def rest_api_event(
    method: str, path: str, body: bytes, headers: dict[str, str], *, base64: bool = False
) -> dict[str, Any]:
    """A REST API (API Gateway v1) proxy-integration event, headers as sent and multi-valued."""
    sent = {
        "Host": DOMAIN,
        "User-Agent": "Keeptrusts-Webhooks/1.0",
        "X-Forwarded-For": SOURCE_IP,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **headers,
    }
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {name: [value] for name, value in sent.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": DOMAIN,
            "httpMethod": method,
            "identity": {"sourceIp": SOURCE_IP, "userAgent": "Keeptrusts-Webhooks/1.0"},
            "path": f"/prod{path}",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTime": TIME,
            "requestTimeEpoch": EPOCH_MS,
            "resourcePath": path,
            "stage": "prod",
        },
        "body": _body(body, base64),
        "isBase64Encoded": base64,
    }


def scheduled_event() -> dict[str, Any]:
    """What an EventBridge schedule sends when its rule has no constant input (a rule with one,
    such as ``{"max_seconds": 40}``, sends that JSON instead)."""
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-12-04T12:00:00Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/kt-jira-worker"],
        "detail": {},
    }
