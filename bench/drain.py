"""Drain benchmark: a backlog of accepted escalations becomes Jira issues at the site's budget.

Per run, against a fresh sandbox Jira in its own process (``bench.sandbox_server``: burst rate
limit ``R`` requests/s per endpoint, ``--latency`` seconds added to every call):

1. *Backlog*: ``kt-jira serve --no-worker`` (SQLite by default, or a scratch PostgreSQL
   database) accepts ``--count`` unique signed escalations through the real webhook
   (``bench.loadgen``, closed loop), then is stopped.
2. *Drain*: ``kt-jira serve`` (web app + embedded worker, the default deployment) starts on that
   database with ``jira.max_requests_per_second`` = ``--client-rate`` (default ``R``) and
   ``worker.concurrency`` = ``--concurrency``; the clock runs until the sandbox has one issue
   per escalation and no job is left, then a few seconds more to catch late duplicates.

The baseline (``ideal``) is the same ``--count`` creates with the same bodies (built by the
bridge's own rules and metadata code before the clock starts), POSTed by plain httpx at exactly
``--client-rate`` (default ``R``) per second with the same concurrency and no database, against
an equally fresh sandbox; a 429 is retried after its Retry-After. Its rate over ``R`` is the
ceiling.

Measured, from the sandbox's own clock: create rate = issues / (last create - first create);
duplicates (issues sharing a correlation label), missing tickets, 429s the sandbox sent and
Retry-After violations; the bridge process's peak RSS (VmHWM) and CPU.

    .venv/bin/python -m bench.drain                    # 10,000 escalations, R = 50/s
    .venv/bin/python -m bench.drain --count 1000       # quick run
    .venv/bin/python -m bench.drain --database postgresql+psycopg://postgres@127.0.0.1:5432/test

Traffic goes to 127.0.0.1 only; every run is bounded in time and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    PYTHON,
    bridge_config,
    bridge_env,
    busy_cores,
    cpu_jiffies,
    cpu_seconds,
    db_query,
    free_port,
    git_commit,
    http_json,
    machine,
    proc_status,
    process,
    run_prefix,
    scratch_postgres,
    stop,
    table,
    wait_http,
    wait_quiet,
)

CREATE_ROUTE = "POST /rest/api/3/issue"
SANDBOX_EMAIL = "kt-jira-bot@example.com"
SANDBOX_TOKEN = "sandbox-jira-token"  # the sandbox's throwaway default credential


@dataclass(frozen=True)
class Options:
    count: int
    rate: float
    client_rate: float
    burst: int
    latency: float
    concurrency: int
    database: str
    ingest_connections: int
    quiet: float
    settle: float
    keep: Path | None
    py_spy: str | None
    lockstat: bool


# -- the sandbox ---------------------------------------------------------------------------


@contextlib.contextmanager
def sandbox(options: Options, tmp: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    argv = [PYTHON, "-m", "bench.sandbox_server", "--port", str(port)]
    argv += ["--rate-limit", str(options.rate), "--burst", str(options.burst)]
    argv += ["--latency", str(options.latency)]
    url = f"http://127.0.0.1:{port}"
    with process(argv, log=tmp / "sandbox.log") as proc:
        wait_http(f"{url}/_sandbox/stats", proc=proc)
        yield url, proc


def creates_so_far(url: str) -> int:
    stats = http_json("GET", f"{url}/_sandbox/stats")
    return int(stats["by_route"].get(CREATE_ROUTE, {}).get("201", 0))


def sandbox_outcome(url: str, expected_ids: list[str]) -> dict[str, Any]:
    """Issues, duplicates and missing tickets by correlation label, and the sandbox's counters."""
    from kt_jira.render.sanitise import correlation_label

    issues = http_json("GET", f"{url}/_bench/issues", timeout=300)["issues"]
    stats = http_json("GET", f"{url}/_sandbox/stats")
    labels: Counter[str] = Counter()
    for _id, issue_labels, _created in issues:
        for label in set(issue_labels):
            if label.startswith("kt-esc-"):
                labels[label] += 1
    expected = [correlation_label(eid) for eid in expected_ids]
    created = sorted(float(created) for _id, _labels, created in issues)
    span = created[-1] - created[0] if len(created) > 1 else float("nan")
    return {
        "issues": len(issues),
        "create_span_s": span,
        "rate": (len(created) - 1) / span if len(created) > 1 else float("nan"),
        "first_create_ts": created[0] if created else float("nan"),
        "last_create_ts": created[-1] if created else float("nan"),
        "duplicates": sum(n - 1 for n in labels.values() if n > 1),
        "escalations_with_duplicates": sum(1 for n in labels.values() if n > 1),
        "missing": sum(1 for label in expected if labels[label] == 0),
        "rate_limited_429": int(stats["rate_limited"]),
        "retry_after_violations": int(stats["retry_after_violations"]),
        "requests_by_route": {
            route: sum(codes.values()) for route, codes in stats["by_route"].items()
        },
        "statuses_create": stats["by_route"].get(CREATE_ROUTE, {}),
        "retry_after_violation_log": stats["retry_after_violation_log"][:20],
    }


# -- the bridge ----------------------------------------------------------------------------


class RssSampler(threading.Thread):
    """Samples VmRSS of ``pid`` every ``interval`` seconds until stopped."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self.halt.wait(self.interval):
            rss = proc_status(self.pid).get("VmRSS")
            if rss is not None:
                self.samples.append((time.monotonic() - start, rss))


@contextlib.contextmanager
def database_for(options: Options, tmp: Path) -> Iterator[str]:
    if options.database == "sqlite":
        yield f"sqlite:///{tmp / 'kt-jira.db'}"
    else:
        with scratch_postgres(options.database) as url:
            yield url


def run_bridge(options: Options) -> dict[str, Any]:
    secret = secrets.token_hex(24)
    env = bridge_env(webhook_secret=secret, jira_token=SANDBOX_TOKEN)
    prefix = run_prefix()
    ids = [f"{prefix}_{n:07d}" for n in range(options.count)]
    result: dict[str, Any] = {"client": "kt-jira", "database": _db_name(options.database)}
    with (
        tempfile.TemporaryDirectory(prefix="kt-bench-drain-") as tmp_name,
        database_for(options, Path(tmp_name)) as db_url,
    ):
        tmp = Path(tmp_name)
        result["busy_before"] = wait_quiet(threshold=options.quiet)
        with sandbox(options, tmp) as (jira_url, jira_proc):
            port = free_port()
            config = bridge_config(
                tmp / "kt-jira.yaml",
                database_url=db_url,
                port=port,
                jira_url=jira_url,
                jira_email=SANDBOX_EMAIL,
                jira={
                    "max_requests_per_second": options.client_rate,
                    "timeout_seconds": 10.0,
                    "search_consistency_delay_seconds": 3.0,
                },
                worker={"concurrency": options.concurrency, "lease_seconds": 60},
            )
            if not db_url.startswith("sqlite"):
                subprocess.run(
                    [PYTHON, "-m", "kt_jira", "migrate", "--config", str(config)],
                    check=True, env=env, capture_output=True,
                )  # fmt: skip
            result["backlog"] = backlog(config, port, prefix, options, env, tmp)
            result |= drain(config, port, jira_url, jira_proc.pid, ids, db_url, options, env, tmp)
    return result


def backlog(
    config: Path, port: int, prefix: str, options: Options, env: dict[str, str], tmp: Path
) -> dict[str, Any]:
    """Accept ``count`` escalations through the real webhook, with the worker off."""
    argv = [PYTHON, "-m", "kt_jira", "serve", "--config", str(config), "--no-worker"]
    with process(argv, log=tmp / "intake.log", env=env) as server:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=server)
        out = tmp / "backlog.json"
        lg = [PYTHON, "-m", "bench.loadgen", "--port", str(port), "--mode", "closed"]
        lg += ["--prefix", prefix, "--warmup", "0", "--server-pid", str(server.pid)]
        lg += ["--connections", str(options.ingest_connections), "--duration", "300"]
        lg += ["--max-requests", str(options.count), "--out", str(out)]
        subprocess.run(lg, check=True, env=env)
    loaded = json.loads(out.read_text())
    if loaded["accepted"] != options.count:
        raise RuntimeError(f"backlog: only {loaded['accepted']} of {options.count} accepted")
    return {"accepted": loaded["accepted"], "seconds": loaded["seconds"],
            "rate": loaded["throughput"]}  # fmt: skip


def drain(
    config: Path,
    port: int,
    jira_url: str,
    jira_pid: int,
    ids: list[str],
    db_url: str,
    options: Options,
    env: dict[str, str],
    tmp: Path,
) -> dict[str, Any]:
    limit = max(120.0, 4 * options.count / options.rate)
    runner = "bench.lockstat" if options.lockstat else "kt_jira"
    argv = [PYTHON, "-m", runner, "serve", "--config", str(config)]
    machine0, jira_cpu0 = cpu_jiffies(), cpu_seconds(jira_pid)
    started_wall = time.time()
    started = time.monotonic()
    with process(argv, log=tmp / "bridge.log", env=env) as bridge:
        sampler = RssSampler(bridge.pid)
        sampler.start()
        profiler = _profile(bridge.pid, options, tmp)
        done_at = None
        while time.monotonic() - started < limit and bridge.poll() is None:
            time.sleep(1.0)
            if creates_so_far(jira_url) >= options.count and _jobs_left(db_url) == 0:
                done_at = time.monotonic()
                break
        exit_code = bridge.poll()
        if exit_code is not None:
            tail = (tmp / "bridge.log").read_text(errors="replace")[-2000:]
            print(f"warning: the bridge exited early with {exit_code}:\n{tail}", flush=True)
        time.sleep(options.settle)  # late duplicates would show up here
        peak = proc_status(bridge.pid).get("VmHWM", 0)
        bridge_cpu = cpu_seconds(bridge.pid)
        wall = time.monotonic() - started
        machine_busy = busy_cores(machine0, cpu_jiffies())
        sandbox_cpu = (cpu_seconds(jira_pid) - jira_cpu0) / wall
        sampler.halt.set()
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            profiler.wait(timeout=60)
        stop(bridge, sig=signal.SIGTERM)
    outcome = sandbox_outcome(jira_url, ids)
    if options.keep is not None:
        kept = options.keep / f"kt-jira-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        kept.mkdir(parents=True, exist_ok=True)
        for name in ("bridge.log", "intake.log", "sandbox.log", "profile.txt"):
            if (tmp / name).exists():
                shutil.copy(tmp / name, kept / name)
    if options.lockstat:
        log = (tmp / "bridge.log").read_text(errors="replace")
        print(log[log.rfind("kind   method") :], flush=True)
    jobs = dict(db_query(db_url, "SELECT status, count(*) FROM jobs GROUP BY status"))
    links = dict(db_query(db_url, "SELECT state, count(*) FROM links GROUP BY state"))
    return {
        **outcome,
        "completed": done_at is not None,
        "bridge_exit": exit_code,
        "wall_s": (done_at or time.monotonic()) - started,
        "first_create_after_s": outcome["first_create_ts"] - started_wall,
        "peak_rss_mib": peak / 1024,
        "rss_samples_mib": [round(kib / 1024, 1) for _, kib in sampler.samples[::10]],
        "bridge_cpu_share": bridge_cpu / wall,
        "cpu_ms_per_issue": 1000 * bridge_cpu / max(1, outcome["issues"]),
        "sandbox_cpu_share": sandbox_cpu,
        "machine_busy_cores": machine_busy,
        "other_cores": machine_busy - bridge_cpu / wall - sandbox_cpu,
        "jobs": jobs,
        "links": links,
        "log_lines": sum(1 for _ in (tmp / "bridge.log").open("rb")),
    }


def _profile(pid: int, options: Options, tmp: Path) -> subprocess.Popen[bytes] | None:
    """py-spy (``--py-spy PATH``) sampling the bridge until the drain ends (raw folded stacks)."""
    if options.py_spy is None:
        return None
    argv = [options.py_spy, "record", "-p", str(pid), "--rate", "100", "--threads"]
    argv += ["--format", "raw", "-o", str(tmp / "profile.txt")]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _jobs_left(db_url: str) -> int:
    rows = db_query(db_url, "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")
    return int(rows[0][0])


# -- the ideal client ----------------------------------------------------------------------


async def create_bodies(jira_url: str, ids: list[str]) -> list[dict[str, Any]]:
    """The bridge's own create bodies for ``ids``, built with its rules and metadata code."""
    from bench.common import escalation_body
    from kt_jira.config.loader import settings_from_dict
    from kt_jira.config.secrets import SecretRef
    from kt_jira.events.keeptrusts import parse_event
    from kt_jira.jira import JiraClient, JiraMetadata
    from kt_jira.jira.pause import MemoryPauseStore
    from kt_jira.tickets.rules import decide

    settings = settings_from_dict(
        {
            "jira": {
                "url": jira_url,
                "email": SANDBOX_EMAIL,
                "project": "AIGOV",
                "api_token": SecretRef.literal(SANDBOX_TOKEN),
            }
        }
    )
    now = datetime.now(UTC)
    bodies = []
    async with JiraClient(settings.jira, pause=MemoryPauseStore()) as client:
        metadata = JiraMetadata(client, settings.jira)
        for n, eid in enumerate(ids):
            event = parse_event(escalation_body(eid, n))
            assert event.escalation is not None
            draft = decide(event.escalation, settings.content, received_at=now).draft
            bodies.append(await metadata.build_create_body(draft))
    return bodies


async def ideal_client(
    jira_url: str, bodies: list[dict[str, Any]], *, rate: float, concurrency: int
) -> dict[str, Any]:
    """POST every body at exactly ``rate``/s, at most ``concurrency`` in flight.

    Every send, retries included, takes the next slot of one schedule spaced ``1/rate`` apart
    (a token bucket of one token): after a 429 the schedule resumes at the end of its
    Retry-After, paced, instead of releasing everything that waited at once.
    """
    semaphore = asyncio.Semaphore(concurrency)
    counts: Counter[str] = Counter()
    loop = asyncio.get_running_loop()
    next_slot = loop.time() + 0.05
    pause_until = 0.0

    async def take_slot() -> None:
        nonlocal next_slot
        while True:
            now = loop.time()
            slot = max(next_slot, now, pause_until)
            next_slot = slot + 1 / rate
            if slot > now:
                await asyncio.sleep(slot - now)
            if pause_until <= loop.time():
                return  # else a 429 came back while this send waited: take a later slot

    async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        nonlocal pause_until
        try:
            for _ in range(20):
                await take_slot()
                answer = await client.post("/rest/api/3/issue", json=body)
                counts[str(answer.status_code)] += 1
                if answer.status_code != 429:
                    return
                retry_after = float(answer.headers.get("retry-after", "1"))
                pause_until = max(pause_until, loop.time() + retry_after)
        finally:
            semaphore.release()

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=jira_url,
        auth=httpx.BasicAuth(SANDBOX_EMAIL, SANDBOX_TOKEN),
        limits=limits,
        timeout=30.0,
        headers={"Accept": "application/json"},
    ) as client:
        tasks = []
        for body in bodies:
            await semaphore.acquire()
            tasks.append(asyncio.create_task(post(client, body)))
        await asyncio.gather(*tasks)
    return {"statuses_seen": dict(counts)}


def run_ideal(options: Options) -> dict[str, Any]:
    ids = [f"{run_prefix()}_{n:07d}" for n in range(options.count)]
    result: dict[str, Any] = {"client": "ideal", "database": "-"}
    with tempfile.TemporaryDirectory(prefix="kt-bench-ideal-") as tmp_name:
        tmp = Path(tmp_name)
        result["busy_before"] = wait_quiet(threshold=options.quiet)
        with sandbox(options, tmp) as (jira_url, jira_proc):
            bodies = asyncio.run(create_bodies(jira_url, ids))
            time.sleep(2.0)  # let the sandbox's buckets refill after the metadata calls
            machine0, jira_cpu0 = cpu_jiffies(), cpu_seconds(jira_proc.pid)
            cpu0 = time.process_time()
            started = time.monotonic()
            result |= asyncio.run(
                ideal_client(
                    jira_url, bodies, rate=options.client_rate, concurrency=options.concurrency
                )
            )
            wall = time.monotonic() - started
            result["wall_s"] = wall
            result["bridge_cpu_share"] = (time.process_time() - cpu0) / wall
            result["cpu_ms_per_issue"] = 1000 * (time.process_time() - cpu0) / len(bodies)
            result["sandbox_cpu_share"] = (cpu_seconds(jira_proc.pid) - jira_cpu0) / wall
            result["machine_busy_cores"] = busy_cores(machine0, cpu_jiffies())
            # This process also holds the prebuilt bodies; not comparable with the bridge.
            result["peak_rss_mib"] = proc_status(os.getpid()).get("VmHWM", 0) / 1024
            result["other_cores"] = (
                result["machine_busy_cores"]
                - result["bridge_cpu_share"]
                - result["sandbox_cpu_share"]
            )
            result |= sandbox_outcome(jira_url, ids)
    return result


def _db_name(database: str) -> str:
    return "sqlite" if database == "sqlite" else "postgresql"


# -- report --------------------------------------------------------------------------------


def report(results: list[dict[str, Any]], options: Options) -> str:
    lines = [
        f"machine: {machine().line()}",
        f"N = {options.count}, R = {options.rate:g}/s (sandbox burst {options.burst}), "
        f"latency {options.latency * 1000:.0f} ms, concurrency {options.concurrency}, "
        f"bridge jira.max_requests_per_second = {options.client_rate:g}",
        "",
    ]
    rows = [
        [
            r["round"], r["client"], r["database"], r["issues"], r["rate"],
            r["rate"] / options.rate,
            r["duplicates"], r["missing"], r["rate_limited_429"], r["retry_after_violations"],
            r["peak_rss_mib"], r["bridge_cpu_share"], r["cpu_ms_per_issue"], r["other_cores"],
            r["wall_s"],
        ]
        for r in results
    ]  # fmt: skip
    lines.append(
        table(
            ["round", "client", "db", "issues", "creates/s", "x R", "dupes", "missing", "429s",
             "RA viol.", "peak RSS MiB", "client CPU", "CPU ms/issue", "other CPU", "wall s"],
            rows,
        )
    )  # fmt: skip
    kt = [r["rate"] for r in results if r["client"] == "kt-jira"]
    ideal = [r["rate"] for r in results if r["client"] == "ideal"]
    if kt and ideal:
        lines.append("")
        lines.append(
            f"kt-jira/ideal create rate {statistics.median(kt) / statistics.median(ideal):.3f} "
            f"(medians {statistics.median(kt):.2f}/s vs {statistics.median(ideal):.2f}/s; "
            f"R = {options.rate:g}/s)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="escalations (max 50,000)")
    parser.add_argument("--rate", type=float, default=50.0, help="R: sandbox requests/s")
    parser.add_argument("--client-rate", type=float, help="bridge max_requests_per_second (R)")
    parser.add_argument("--burst", type=int, default=10, help="sandbox burst (its default)")
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database", default="sqlite", help="'sqlite' or a PostgreSQL URL")
    parser.add_argument("--ingest-connections", type=int, default=16)
    parser.add_argument("--clients", default="ideal,kt-jira")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--quiet", type=float, default=0.3)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to wait after done")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", type=Path, help="copy the logs (and profile) of runs here")
    parser.add_argument("--py-spy", help="path to py-spy: profile the bridge during the drain")
    parser.add_argument(
        "--lockstat", action="store_true", help="time the store's transactions (bench.lockstat)"
    )
    args = parser.parse_args(argv)
    if not 0 < args.count <= 50_000:
        parser.error("--count must be 1..50000")
    options = Options(
        count=args.count,
        rate=args.rate,
        client_rate=args.client_rate or args.rate,
        burst=args.burst,
        latency=args.latency,
        concurrency=args.concurrency,
        database=args.database,
        ingest_connections=args.ingest_connections,
        quiet=args.quiet,
        settle=args.settle,
        keep=args.keep,
        py_spy=args.py_spy,
        lockstat=args.lockstat,
    )
    clients = [c for c in args.clients.split(",") if c]
    results = []
    for round_ in range(args.repeat):
        for client in clients if round_ % 2 == 0 else reversed(clients):
            commit = git_commit()
            result = run_ideal(options) if client == "ideal" else run_bridge(options)
            result["round"] = round_ + 1
            result["commit"] = commit
            results.append(result)
            print(
                f"round {round_ + 1} {client:8} {result['issues']} issues "
                f"{result['rate']:.2f}/s ({result['rate'] / options.rate:.3f} R) "
                f"dupes {result['duplicates']} missing {result['missing']} "
                f"429s {result['rate_limited_429']} RA-viol {result['retry_after_violations']} "
                f"peak RSS {result['peak_rss_mib']:.0f} MiB wall {result['wall_s']:.0f} s "
                f"other CPU {result['other_cores']:.2f}",
                flush=True,
            )
    print()
    print(report(results, options))
    if args.json:
        args.json.write_text(json.dumps({"options": vars(args) | {"json": str(args.json)},
                                         "results": results}, indent=2, default=str))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
