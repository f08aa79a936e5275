"""Fixtures for the Lambda handlers, offline: a migrated throwaway PostgreSQL database, the
sandbox Jira on loopback, moto's SSM holding the secrets, a config file named by
``KT_JIRA_CONFIG``, and one thread that invokes the handlers as a Lambda container would (one
invocation at a time, its own event loop)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from kt_jira import aws_lambda
from kt_jira.sandbox import JiraSandbox
from kt_jira.store import open_store
from tests.support.aws import mocked_ssm, offline_aws
from tests.support.databases import temporary_postgres_database
from tests.support.running import checked_jira

WEBHOOK_SECRET = "lambda-webhook-secret-0123456789"
WEBHOOK_PARAMETER = "/kt-jira/keeptrusts-webhook-secret"
JIRA_TOKEN_PARAMETER = "/kt-jira/jira-api-token"
T = TypeVar("T")
Invoke = Callable[..., Awaitable[Any]]


@dataclass
class Function:
    """The deployed function under test: its config, its database and the Jira it talks to."""

    config: Path
    database_url: str
    sandbox: JiraSandbox
    invoke: Invoke  #: ``await invoke(aws_lambda.handler, event, context)``, on the Lambda thread


@pytest.fixture
def lambda_thread() -> Iterator[ThreadPoolExecutor]:
    """The one thread the handlers run on; the runtime is shut down on it after the test."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda")
    try:
        yield executor
    finally:
        executor.submit(aws_lambda.shutdown).result(timeout=60)
        executor.shutdown(wait=True)


@pytest.fixture
def invoke(lambda_thread: ThreadPoolExecutor) -> Invoke:
    async def call(handler: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(lambda_thread, handler, *args)

    return call


@pytest.fixture
async def function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke: Invoke
) -> AsyncIterator[Function]:
    """The function's world: PostgreSQL migrated beforehand (as ``kt-jira migrate`` would), the
    sandbox Jira, its secrets in SSM (moto), and ``KT_JIRA_CONFIG`` naming the config."""
    offline_aws(monkeypatch, tmp_path)
    async with checked_jira(search_lag=0.3) as (sandbox, jira_url):
        parameters = {
            WEBHOOK_PARAMETER: WEBHOOK_SECRET,
            JIRA_TOKEN_PARAMETER: sandbox.settings.api_token,
        }
        with mocked_ssm(parameters):
            async with temporary_postgres_database() as url:
                async with open_store(url) as store:
                    await store.db.migrate()
                config = tmp_path / "kt-jira.yaml"
                config.write_text(yaml.safe_dump(_config(url, jira_url, sandbox)), "utf-8")
                monkeypatch.setenv(aws_lambda.CONFIG_ENV, str(config))
                yield Function(config=config, database_url=url, sandbox=sandbox, invoke=invoke)
                await invoke(aws_lambda.shutdown)  # before the database is dropped


def _config(database_url: str, jira_url: str, sandbox: JiraSandbox) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "keeptrusts": {"webhook": {"secrets": [f"ssm:{WEBHOOK_PARAMETER}"]}},
        "jira": {
            "url": jira_url,
            "email": sandbox.settings.email,
            "api_token": f"ssm:{JIRA_TOKEN_PARAMETER}",
            # The sandbox checks each new ADF shape against the schema (about a second) on
            # the test's loop, while this function's clock runs on its own thread.
            "timeout_seconds": 10.0,
            "max_requests_per_second": 200,
            "search_consistency_delay_seconds": 2.0,
        },
        "worker": {"lease_seconds": 5, "backoff_base_seconds": 0.05, "backoff_max_seconds": 0.5},
    }
