"""Shared helpers for the benchmarks: processes, ports, configs, payloads, statistics.

Everything here talks only to 127.0.0.1 and to processes it started itself. Not part of the test
run (DESIGN.md, "Layout"); see docs/performance.md for how the benchmarks are run.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")

POLICIES = ("pii-detector", "content_safety", "hipaa-compliance", "human-oversight")
ACTIONS = ("block", "escalate", "redact", "log")
MODELS = ("gpt-4o", "claude-sonnet-4", "llama-3.1-70b")
SEVERITIES = ("critical", "high", "medium", "low")


# -- payloads ------------------------------------------------------------------------------


def escalation_body(escalation_id: str, n: int) -> bytes:
    """A realistic flat ``escalation.created`` payload (the guide's shape), about 400 bytes."""
    doc = {
        "escalation_id": escalation_id,
        "policy_name": POLICIES[n % len(POLICIES)],
        "action": ACTIONS[n % len(ACTIONS)],
        "model": MODELS[n % len(MODELS)],
        "gateway_id": ("gw_prod_east", "gw_prod_west", "gw_staging")[n % 3],
        "user_id": f"user_{100000 + n % 9973}",
        "org_id": "org_acme_prod",
        "severity": SEVERITIES[n % len(SEVERITIES)],
        "timestamp": "2026-11-27T10:15:30Z",
        "request_id": f"req_{n:012x}",
        "message": "Prompt contained a customer e-mail address and an IBAN; "
        "the response was held for review by the policy.",
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def run_prefix() -> str:
    """A lower-case, label-safe prefix that makes escalation ids unique per run."""
    return f"esc_b{secrets.token_hex(4)}"


# -- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _loopback(url: str) -> str:
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"benchmarks only talk to 127.0.0.1, not {url}")
    return url


def wait_http(
    url: str, *, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll ``url`` until it answers 200, or fail (also when ``proc`` exits meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} came up")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(_loopback(url), timeout=1) as answer,  # noqa: S310
        ):
            if answer.status == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up within {timeout} s")


def http_json(method: str, url: str, body: Any = None, *, timeout: float = 60.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(_loopback(url), data=data, method=method)  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
        return json.loads(answer.read() or b"null")


@contextlib.contextmanager
def process(
    argv: Sequence[str], *, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` with stdout/stderr to ``log``; stop it (TERM, then KILL) on exit."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env or os.environ.copy()
        )
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM, grace: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of ``pid`` in KiB, from /proc/<pid>/status."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used (all its threads), from /proc/<pid>/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = raw.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from the ``cpu`` line of /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_cores(before: tuple[int, int], after: tuple[int, int]) -> float:
    """Cores busy on average between two ``cpu_jiffies`` readings (all processes)."""
    total = after[1] - before[1]
    cores = os.cpu_count() or 1
    return cores * (after[0] - before[0]) / total if total > 0 else float("nan")


def wait_quiet(*, threshold: float = 0.3, max_wait: float = 300.0) -> float:
    """Wait (up to ``max_wait`` s) until the machine's other load is under ``threshold`` cores
    for one second: other people's test runs on this machine would distort the numbers.
    Returns the busy cores of the last second measured."""
    deadline = time.monotonic() + max_wait
    while True:
        before = cpu_jiffies()
        time.sleep(1.0)
        busy = busy_cores(before, cpu_jiffies())
        if busy < threshold or time.monotonic() > deadline:
            if busy >= threshold:
                print(f"warning: machine still busy ({busy:.2f} cores) after {max_wait:.0f} s")
            return busy


# -- configs -------------------------------------------------------------------------------


def bridge_config(
    path: Path,
    *,
    database_url: str,
    port: int,
    jira_url: str = "http://127.0.0.1:9",
    jira_email: str = "kt-jira-bot@example.com",
    jira: dict[str, Any] | None = None,
    worker: dict[str, Any] | None = None,
) -> Path:
    """Write a bridge config; secrets are ``env:`` references (see ``bridge_env``)."""
    doc: dict[str, Any] = {
        "database_url": database_url,
        "server": {"host": "127.0.0.1", "port": port},
        "keeptrusts": {"webhook": {"secrets": ["env:KT_BENCH_WEBHOOK_SECRET"]}},
        "jira": {
            "url": jira_url,
            "email": jira_email,
            "api_token": "env:KT_BENCH_JIRA_TOKEN",
            "project": "AIGOV",
            **(jira or {}),
        },
        # The drain measures one ticket per escalation at the site's budget: the runaway guard
        # would (rightly) group a backlog of four policies into a few tickets.
        "storm": {"max_tickets_per_policy": 0},
    }
    if worker:
        doc["worker"] = worker
    path.write_text(json.dumps(doc, indent=2))  # JSON is YAML
    return path


def bridge_env(*, webhook_secret: str, jira_token: str = "sandbox-jira-token") -> dict[str, str]:  # noqa: S107
    env = os.environ.copy()
    env["KT_BENCH_WEBHOOK_SECRET"] = webhook_secret
    env["KT_BENCH_JIRA_TOKEN"] = jira_token
    env["KT_JIRA_LOG_FORMAT"] = "json"
    env.pop("PYTHONDEVMODE", None)
    return env


# -- PostgreSQL scratch databases ----------------------------------------------------------


@contextlib.contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    """A fresh database on the server of ``url``; yields its URL and drops it afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"kt_jira_bench_{secrets.token_hex(4)}"
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def db_query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Run one read-only statement with a plain synchronous driver (no bridge code)."""
    if database_url.startswith("sqlite"):
        import sqlite3

        file = database_url.split(":///", 1)[1]
        with contextlib.closing(sqlite3.connect(file)) as conn:
            return list(conn.execute(sql).fetchall())
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(plain.render_as_string(hide_password=False)) as conn:
        return list(conn.execute(sql).fetchall())


# -- statistics and reporting --------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (``q`` in 0..100); NaN when empty."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def git_commit() -> str:
    """The commit the benchmarked code comes from; ``+dirty`` when ``src/`` has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


@dataclass(frozen=True)
class Machine:
    cores: int
    model: str
    python: str
    kernel: str

    def line(self) -> str:
        return (
            f"{self.cores} cores ({self.model}), Python {self.python}, Linux {self.kernel}, "
            f"kt-jira {git_commit()}"
        )


def machine() -> Machine:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return Machine(
        cores=os.cpu_count() or 0,
        model=model,
        python=platform.python_version(),
        kernel=platform.release(),
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (also readable in a terminal)."""
    cells = [[str(h) for h in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)
