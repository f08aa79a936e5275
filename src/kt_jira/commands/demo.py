"""``kt-jira demo``: the whole flow on loopback, with no account anywhere.

A sandbox Jira Cloud and a sandbox Keeptrusts run beside the bridge (embedded SQLite in a
temporary folder). A scenario of signed escalations goes in, including a duplicate delivery, a
forged one, and a create that Jira answers too slowly after committing it; then the tickets are
printed. The bridge is driven only through its public HTTP surface.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import secrets
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.config.secrets import SecretRef
from kt_jira.render.sanitise import correlation_label
from kt_jira.sandbox import (
    JiraSandbox,
    JiraSandboxSettings,
    KeeptrustsSandbox,
    KeeptrustsSender,
    envelope,
    escalation_payload,
    serve_app,
)
from kt_jira.service import Bridge, install_stop_signals

ACTIONS = ("block", "escalate", "redact", "log")
POLICIES = (
    "content_safety",
    "hipaa-compliance",
    "pii-detector",
    "human-oversight",
    "audit-logger",
    "Toxic [x|http://evil] *policy* {color:red}",
)
MODELS = ("gpt-4o", "claude-sonnet-4", "llama-3.1-70b")
WAIT_SECONDS = 90.0


@dataclass(frozen=True, kw_only=True)
class Scenario:
    payloads: list[dict[str, Any]]

    @property
    def ids(self) -> list[str]:
        return [str(p.get("data", p)["escalation_id"]) for p in self.payloads]


def scenario(count: int) -> Scenario:
    """``count`` escalations over every action and several policies, flat and enveloped."""
    payloads: list[dict[str, Any]] = []
    for n in range(count):
        flat = escalation_payload(
            f"esc_demo_{n + 1:03d}",
            policy_name=POLICIES[n % len(POLICIES)],
            action=ACTIONS[n % len(ACTIONS)],
            model=MODELS[n % len(MODELS)],
            gateway_id=f"gw_{('prod_east', 'prod_west', 'staging')[n % 3]}",
            user_id=f"user_{100 + n}",
            severity=("critical", "high", "medium", "low")[n % 4],
        )
        payloads.append(envelope("escalation.created", flat) if n % 2 else flat)
    return Scenario(payloads=payloads)


def demo_settings(*, jira_url: str, keeptrusts_url: str, jira: JiraSandboxSettings, secret: str,
                  database: Path, port: int) -> Settings:  # fmt: skip
    return settings_from_dict(
        {
            "database_url": f"sqlite:///{database}",
            "server": {
                "host": "127.0.0.1",
                "port": port,
                "admin_token": SecretRef.literal(secrets.token_hex(16)),
            },
            "keeptrusts": {
                "api_url": keeptrusts_url,
                "api_token": SecretRef.literal("sandbox-keeptrusts-token"),
                "console_url": "https://console.keeptrusts.com",
                "webhook": {"secrets": [SecretRef.literal(secret)]},
            },
            "jira": {
                "url": jira_url,
                "email": jira.email,
                "api_token": SecretRef.literal(jira.api_token),
                "project": "AIGOV",
                "timeout_seconds": 2.0,
                "max_requests_per_second": 20,
                "search_consistency_delay_seconds": 2.0,
            },
            "worker": {"concurrency": 4, "lease_seconds": 15, "backoff_base_seconds": 0.5},
        },
        source="<demo>",
    )


def free_port(preferred: int) -> int:
    """``preferred`` when it is free, else any free port (a busy 8080 should not stop a demo)."""
    with socket.socket() as sock:
        if preferred:
            try:
                sock.bind(("127.0.0.1", preferred))
                return preferred
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_demo(*, once: bool, count: int, port: int, console: Console) -> bool:
    secret = secrets.token_hex(24)
    jira_settings = JiraSandboxSettings(search_lag=1.0, rate_limit=25, rate_burst=5)
    jira = JiraSandbox(jira_settings)
    keeptrusts = KeeptrustsSandbox()
    # One create is committed by Jira but answered after the client gave up: it must be adopted.
    jira.faults.update({"slow_after_commit": 1, "slow_seconds": 4})
    with tempfile.TemporaryDirectory(prefix="kt-jira-demo-") as tmp:
        async with serve_app(jira.app) as jira_url, serve_app(keeptrusts.app) as keeptrusts_url:
            port = free_port(port)
            settings = demo_settings(
                jira_url=jira_url,
                keeptrusts_url=keeptrusts_url,
                jira=jira_settings,
                secret=secret,
                database=Path(tmp) / "kt-jira-demo.db",
                port=port,
            )
            console.print(f"sandbox Jira      {jira_url}   (issues: {jira_url}/_sandbox/issues)")
            console.print(f"sandbox Keeptrusts {keeptrusts_url}")
            async with Bridge.open(settings) as bridge:
                stop = asyncio.Event()
                runner = asyncio.create_task(bridge.run(stop))
                bridge_url = f"http://127.0.0.1:{port}"
                await _wait_healthy(bridge_url)
                console.print(f"kt-jira bridge    {bridge_url}   (metrics: {bridge_url}/metrics)")
                login = bridge.app.state.admin_gate.one_time_login()
                console.print(
                    f"dashboard         {bridge_url}{login}   (a one-time sign-in link)\n"
                )
                plan = scenario(count)
                outcomes = await _send(bridge_url, secret, plan, console)
                await _wait_for_tickets(bridge, plan, console)
                ok = _report(jira, plan, outcomes, console)
                if not once:
                    console.print("\nStill serving; press Ctrl-C to stop.")
                    install_stop_signals(stop)
                stop.set() if once else None
                await runner
                return ok


async def _wait_healthy(url: str) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the bridge did not come up at {url}")


async def _send(url: str, secret: str, plan: Scenario, console: Console) -> dict[str, int]:
    outcomes = {"accepted": 0, "duplicate": 0, "forged rejected": 0}
    async with KeeptrustsSender(
        f"{url}/webhooks/keeptrusts", secret=secret, base_delay=0.2
    ) as sender:
        results = await asyncio.gather(*(sender.send(p) for p in plan.payloads))
        outcomes["accepted"] = sum(1 for r in results if r.status == 202)
        # A sender's retries: the same event with the same delivery id, then with a new one.
        again = await sender.send(plan.payloads[0], delivery_id=results[0].delivery_id)
        resent = await sender.send(plan.payloads[0])
        outcomes["duplicate"] = sum(1 for r in (again, resent) if r.status == 200)
        forged = await sender.send_forged(escalation_payload("esc_forged_001"))
        outcomes["forged rejected"] = 1 if forged.status == 401 else 0
    console.print(
        f"sent {len(plan.payloads)} escalations: {outcomes['accepted']} accepted (202), "
        f"{outcomes['duplicate']} re-deliveries answered as duplicates (200), "
        f"{outcomes['forged rejected']} forged delivery rejected (401)"
    )
    return outcomes


async def _wait_for_tickets(bridge: Bridge, plan: Scenario, console: Console) -> None:
    columns = (TextColumn("tickets"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    deadline = time.monotonic() + WAIT_SECONDS
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("tickets", total=len(plan.ids))
        while time.monotonic() < deadline:
            counts = await bridge.store.counts.totals()
            done = counts.get("links_created", 0)
            progress.update(task, completed=done)
            if (
                done >= len(plan.ids)
                and counts.get("jobs_queued", 0) + counts.get("jobs_running", 0) == 0
            ):
                return
            await asyncio.sleep(0.2)


def _report(jira: JiraSandbox, plan: Scenario, outcomes: dict[str, int], console: Console) -> bool:
    table = Table("key", "type", "priority", "summary", title="Tickets in the sandbox Jira")
    views = sorted((jira.view(issue) for issue in jira.issues), key=lambda v: int(v["id"]))
    for view in views:
        cells = (
            view["key"],
            view["issue_type"],
            view["priority"],
            view["fields"].get("summary", ""),
        )
        table.add_row(*(Text(str(cell)) for cell in cells))  # payload text is never console markup
    console.print(table)
    per_escalation = {eid: len(jira.issues_with_label(correlation_label(eid))) for eid in plan.ids}
    missing = [eid for eid, n in per_escalation.items() if n == 0]
    doubled = [eid for eid, n in per_escalation.items() if n > 1]
    stats = jira.stats_json()
    console.print(
        f"escalations {len(plan.ids)} · tickets {len(views)} · missing {len(missing)} · "
        f"duplicated {len(doubled)} · Jira 429s {stats.get('rate_limited', 0)} · "
        f"Retry-After violations {jira.retry_after_violations}"
    )
    ok = (
        not missing
        and not doubled
        and len(views) == len(plan.ids)
        and outcomes["forged rejected"] == 1
    )
    console.print(
        "[green]OK: every escalation has exactly one ticket[/green]" if ok else "[red]FAILED[/red]"
    )
    return ok
