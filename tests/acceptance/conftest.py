"""Fixtures for the acceptance suite: a ``World`` per test that owns the sandboxes it served and
the ``kt-jira serve`` processes it started, stops them all on teardown (SIGTERM, then kill), and
attaches their output and the sandbox's statistics to any failure; and throwaway PostgreSQL
databases for several replicas to share (on the shared server, or on a private cluster the test
may stop and start).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import Any

import pytest

from kt_jira.sandbox import KeeptrustsSandbox
from kt_jira.store import open_store
from tests.acceptance.harness import (
    BridgeProcess,
    CliResult,
    JiraSite,
    Json,
    Secrets,
    bridge_config,
    bridge_environ,
    eventually,
    free_port,
    merge,
    run_cli,
    serve_jira,
    serve_keeptrusts,
    write_config,
)
from tests.support.databases import temporary_postgres_database
from tests.support.pgcluster import PgCluster, private_cluster


class World:
    """Everything one acceptance test runs: sandboxes, config files, bridge processes."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.secrets = Secrets()
        self.env = bridge_environ(self.secrets.environ())
        self.bridges: list[BridgeProcess] = []
        self.sites: list[JiraSite] = []
        self._stack = contextlib.ExitStack()
        self._keeptrusts: tuple[KeeptrustsSandbox, str] | None = None

    def jira(self, **settings: Any) -> JiraSite:
        """Serve a fresh sandbox Jira with ``settings`` (contract-checked, search lag 1 s)."""
        settings.setdefault("api_token", self.secrets.jira_token)
        site = self._stack.enter_context(serve_jira(**settings))
        self.sites.append(site)
        return site

    def _served_keeptrusts(self) -> tuple[KeeptrustsSandbox, str]:
        if self._keeptrusts is None:
            self._keeptrusts = self._stack.enter_context(
                serve_keeptrusts(self.secrets.keeptrusts_token)
            )
        return self._keeptrusts

    @property
    def keeptrusts(self) -> KeeptrustsSandbox:
        """The sandbox Keeptrusts every bridge of this world talks to (served on first use)."""
        return self._served_keeptrusts()[0]

    @property
    def keeptrusts_url(self) -> str:
        return self._served_keeptrusts()[1]

    def config(
        self,
        site: JiraSite,
        overrides: Json | None = None,
        *,
        name: str = "kt-jira.yaml",
        port: int | None = None,
    ) -> tuple[Path, Json]:
        """Write a config file for ``site`` (SQLite in tmp_path, a free port)."""
        content = bridge_config(
            database=self.tmp_path / "kt-jira.db",
            port=port if port is not None else free_port(),
            jira_url=site.url,
            keeptrusts_url=self.keeptrusts_url,
            email=site.sandbox.settings.email,
        )
        content = merge(content, overrides or {})
        return write_config(self.tmp_path / name, content), content

    def launch(
        self, site: JiraSite, overrides: Json | None = None, *, name: str = "bridge"
    ) -> BridgeProcess:
        """Write a config for ``site`` and start ``kt-jira serve`` on it (without waiting)."""
        path, content = self.config(site, overrides, name=f"{name}.yaml")
        process = BridgeProcess(
            name=name,
            config=path,
            env=dict(self.env),
            port=int(content["server"]["port"]),
            log_dir=self.tmp_path,
        )
        self.bridges.append(process)
        process.start()
        return process

    async def bridge(
        self, site: JiraSite, overrides: Json | None = None, *, name: str = "bridge"
    ) -> BridgeProcess:
        """Write a config for ``site``, start ``kt-jira serve`` on it, wait for ``/healthz``."""
        process = self.launch(site, overrides, name=name)
        await process.wait_healthy()
        return process

    def cli(self, *args: str, bridge: BridgeProcess | None = None) -> CliResult:
        return run_cli(list(args), env=bridge.env if bridge else self.env)

    def jobs(self, bridge: BridgeProcess, status: str | None = None) -> list[list[str]]:
        """The jobs ``kt-jira jobs list`` shows (optionally ``--status STATUS``), as cells:
        id, kind, key, status, attempts, last error."""
        args = ["jobs", "list", "--config", str(bridge.config), "--limit", "1000"]
        listed = self.cli(*args, *(["--status", status] if status else []), bridge=bridge)
        assert listed.code == 0, listed.text
        rows = []
        for line in listed.stdout.splitlines():
            cells = [cell.strip() for cell in re.split(r"\t|│", line) if cell.strip()]
            if len(cells) >= 4 and cells[0].isdigit():
                rows.append(cells)
        return rows

    async def idle(self, bridge: BridgeProcess, *, timeout: float = 60) -> None:
        """Wait until the bridge has no queued (or deferred) and no running job."""

        def check() -> None:
            busy = [row for row in self.jobs(bridge) if row[3] in ("queued", "running")]
            assert not busy, f"jobs still pending: {busy}"

        await eventually(check, timeout=timeout, interval=0.5)

    def close(self) -> list[str]:
        """Stop every bridge, then the sandboxes; the problems seen while stopping."""
        problems: list[str] = []
        for process in self.bridges:  # all at once: replicas stop side by side
            process.terminate()
        for process in self.bridges:
            process.stop()
            problems += process.problems
            output = process.output(tail=1_000_000)
            problems += [
                f"{process.name} wrote a secret value into its output"
                for value in self.secrets.values
                if value in output
            ]
        self._stack.close()
        return problems

    def report(self) -> list[tuple[str, str]]:
        sections = [(f"kt-jira output: {p.name}", p.output()) for p in self.bridges]
        for index, site in enumerate(self.sites):
            stats = site.sandbox.stats_json()
            sections.append((f"sandbox Jira #{index + 1} stats", json.dumps(stats, indent=1)))
        return sections


WORLD = pytest.StashKey[World]()


@pytest.fixture
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    created = World(tmp_path)
    request.node.stash[WORLD] = created
    try:
        yield created
    finally:
        problems = created.close()
    assert not problems, "; ".join(problems)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    found = item.stash.get(WORLD, None)
    if report.failed and found is not None:
        for title, text in found.report():
            report.sections.append((title, text))


# -- PostgreSQL for the high-availability tests ----------------------------------------------
# Request these before ``world``: the database then outlives the replicas (torn down later).


@pytest.fixture
async def empty_postgres_url() -> AsyncIterator[str]:
    """A fresh, empty database on the shared server."""
    async with temporary_postgres_database() as url:
        yield url


async def migrated(url: str) -> str:
    """``url``, migrated in this process (``kt-jira migrate`` costs an interpreter start)."""
    async with open_store(url) as store:
        await store.db.migrate()
    return url


@pytest.fixture
async def postgres_url(empty_postgres_url: str) -> str:
    """A fresh database on the shared server, at the schema head."""
    return await migrated(empty_postgres_url)


@pytest.fixture
async def private_postgres() -> AsyncIterator[tuple[PgCluster, str]]:
    """A migrated database on a private cluster that the test may stop and start."""
    with private_cluster() as cluster:
        async with temporary_postgres_database(cluster.admin_url) as url:
            yield cluster, await migrated(url)
