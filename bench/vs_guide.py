"""kt-jira against the guide's design: ack latency, duplicates and loss, side by side.

For each scenario and target, a fresh sandbox Jira in its own process (``bench.sandbox_server``)
and a fresh target: ``guide`` is ``bench.guide_server`` (the guide's inline Lambda handler,
ported; ``--faithful`` for its exact body), ``kt-jira`` is the real ``python -m kt_jira serve``
(web app + embedded worker, SQLite in a temp dir). Both get the same open-loop stream of unique
signed escalations from one ``KeeptrustsSender`` (attempts 4, backoff 0.5 s doubling, timeout
2 s per attempt), at ``--rate`` per second:

- ``latency``: ``--count`` escalations, every Jira call ``--latency`` s slower (default 0.5 s);
- ``outage``: Jira answers 503 to everything from ``--outage-start`` s for ``--outage`` s
  (default 60), sends running from the start until ``--tail`` s after Jira is back.

Measured per target: ack latency (a delivery's first send to its final answer, retries
included) p50/p99/max; deliveries the sender gave up on; issues per escalation at the end
(after kt-jira's queue has drained, bounded by ``--drain-deadline``): duplicates (issues beyond
one) and lost (no issue). An issue belongs to an escalation by its ``kt-esc-<id>`` label or by
a custom field holding the escalation id (the guide's "Escalation ID").

    nice -n -10 .venv/bin/python -m bench.vs_guide --json /tmp/vs_guide.json
    .venv/bin/python -m bench.vs_guide --outage 10 --count 60        # a short trial
    .venv/bin/python -m bench.vs_guide --faithful --targets guide --scenarios latency

Every process it starts listens on 127.0.0.1 and is stopped when its run ends, also on an
error or Ctrl-C; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import common
from bench.webhook_stream import ATTEMPTS, BASE_DELAY, TIMEOUT, Outage, ack_stats, send_all
from kt_jira.render.sanitise import correlation_label

SANDBOX_EMAIL = "kt-jira-bot@example.com"
SANDBOX_TOKEN = "sandbox-jira-token"  # the sandbox's throwaway default credential
CREATE_ROUTE = "POST /rest/api/3/issue"
WEBHOOK = "/webhooks/keeptrusts"


@dataclass(frozen=True, kw_only=True)
class Options:
    """What ``main`` reads from the command line (defaults as there)."""

    rate: float = 20.0
    count: int = 200
    latency: float = 0.5
    outage: float = 60.0
    outage_start: float = 5.0
    outage_latency: float = 0.1
    tail: float = 5.0
    faithful: bool = False
    drain_deadline: float = 300.0
    quiet: float = 0.5
    quiet_wait: float = 60.0


# -- processes -----------------------------------------------------------------------------


@contextlib.contextmanager
def jira_sandbox(tmp: Path, latency: float) -> Iterator[tuple[str, int]]:
    port = common.free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [
        common.PYTHON,
        "-m",
        "bench.sandbox_server",
        "--port",
        str(port),
        "--latency",
        str(latency),
    ]
    with common.process(argv, log=tmp / "sandbox.log") as proc:
        common.wait_http(f"{url}/_sandbox/stats", proc=proc)
        yield url, proc.pid


@contextlib.contextmanager
def target(name: str, jira_url: str, tmp: Path, options: Options) -> Iterator[tuple[str, str, int]]:
    """Start ``name`` against ``jira_url``; yields its webhook URL, webhook secret and pid."""
    port = common.free_port()
    secret = secrets.token_hex(24)
    if name == "guide":
        env = os.environ | {
            "JIRA_URL": jira_url,
            "JIRA_EMAIL": SANDBOX_EMAIL,
            "JIRA_API_TOKEN": SANDBOX_TOKEN,
            "JIRA_PROJECT_KEY": "AIGOV",
        }
        mode = "--faithful" if options.faithful else "--fixed-fields"
        argv = [common.PYTHON, "-m", "bench.guide_server", "--port", str(port), mode]
    else:
        env = common.bridge_env(webhook_secret=secret, jira_token=SANDBOX_TOKEN)
        config = common.bridge_config(
            tmp / "kt-jira.yaml",
            database_url=f"sqlite:///{tmp / 'kt-jira.db'}",
            port=port,
            jira_url=jira_url,
            jira_email=SANDBOX_EMAIL,
            jira={"max_requests_per_second": 50.0, "timeout_seconds": 10.0},
            worker={"concurrency": 16},
        )
        argv = [common.PYTHON, "-m", "kt_jira", "serve", "--config", str(config)]
    with common.process(argv, log=tmp / f"{name}.log", env=env) as proc:
        common.wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc, timeout=60)
        yield f"http://127.0.0.1:{port}{WEBHOOK}", secret, proc.pid


# -- the load ------------------------------------------------------------------------------


def wait_drained(db: Path, deadline: float) -> float | None:
    """Wait until kt-jira has no queued or running job; seconds waited, or None at the deadline."""
    started = time.monotonic()
    sql = "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')"
    while time.monotonic() - started < deadline:
        if int(common.db_query(f"sqlite:///{db}", sql)[0][0]) == 0:
            return time.monotonic() - started
        time.sleep(1.0)
    return None


# -- report --------------------------------------------------------------------------------


def report(results: list[dict[str, Any]], options: Options) -> str:
    sender = f"attempts {ATTEMPTS}, backoff {BASE_DELAY:g} s doubling, timeout {TIMEOUT:g} s"
    mode = "faithful" if options.faithful else "fixed fields"
    lines = [f"machine: {common.machine().line()}"]
    lines += [f"rate {options.rate:g}/s; sender: {sender}; guide mode: {mode}", ""]
    rows = [
        [
            r["scenario"],
            r["target"],
            r["count"],
            r["ack_p50_ms"],
            r["ack_p99_ms"],
            r["ack_max_ms"],
            r["gave_up"],
            r["retried"],
            r["issues"],
            r["duplicates"],
            r["lost"],
            " ".join(f"{k}:{v}" for k, v in r["jira_creates"].items()) or "-",
            r["last_create_after_outage_s"],
            r["server_cpu"],
            r["other_cpu"],
        ]
        for r in results
    ]
    lines.append(
        common.table(
            [
                "scenario",
                "target",
                "escalations",
                "ack p50 ms",
                "ack p99 ms",
                "ack max ms",
                "sender gave up",
                "retried",
                "issues",
                "duplicates",
                "lost",
                "Jira creates",
                "last create after outage s",
                "server CPU",
                "other CPU",
            ],
            rows,
        )
    )
    for scenario in dict.fromkeys(r["scenario"] for r in results):
        p99 = {r["target"]: r["ack_p99_ms"] for r in results if r["scenario"] == scenario}
        if "guide" in p99 and "kt-jira" in p99:
            ratio = p99["kt-jira"] / p99["guide"]
            lines.append(
                f"{scenario}: kt-jira ack p99 / guide ack p99 = {ratio:.4f} "
                f"(1/{1 / ratio:.0f}; target <= 1/20)"
            )
    return "\n".join(lines)


# -- one run -------------------------------------------------------------------------------


def run(name: str, scenario: str, options: Options) -> dict[str, Any]:
    outage = scenario == "outage"
    count = options.count
    if outage:
        count = round(options.rate * (options.outage_start + options.outage + options.tail))
    ids = [f"{common.run_prefix()}_{n:05d}" for n in range(count)]
    latency = options.outage_latency if outage else options.latency
    result: dict[str, Any] = {
        "target": name,
        "scenario": scenario,
        "count": count,
        "jira_latency_s": latency,
        "commit": common.git_commit(),
    }
    result["busy_before"] = common.wait_quiet(threshold=options.quiet, max_wait=options.quiet_wait)
    with tempfile.TemporaryDirectory(prefix="kt-bench-guide-") as tmp_name:
        tmp = Path(tmp_name)
        with (
            jira_sandbox(tmp, latency) as (jira_url, jira_pid),
            target(name, jira_url, tmp, options) as (url, secret, pid),
        ):
            machine0, cpu0, jira0 = (
                common.cpu_jiffies(),
                common.cpu_seconds(pid),
                common.cpu_seconds(jira_pid),
            )
            own0, started = time.process_time(), time.monotonic()
            spec = Outage(jira_url=jira_url, start=options.outage_start, seconds=options.outage)
            load = send_all(url, secret=secret, ids=ids, rate=options.rate,
                            outage=spec if outage else None)  # fmt: skip
            sent, marks = asyncio.run(load)
            wall = time.monotonic() - started
            server_cpu = (common.cpu_seconds(pid) - cpu0) / wall
            other = common.busy_cores(machine0, common.cpu_jiffies()) - server_cpu
            other -= (common.cpu_seconds(jira_pid) - jira0 + time.process_time() - own0) / wall
            drained = (
                wait_drained(tmp / "kt-jira.db", options.drain_deadline)
                if (name == "kt-jira")
                else 0.0
            )
            time.sleep(3.0)  # late duplicates would show up here
            result |= outcome(jira_url, ids, marks)
        result |= ack_stats(sent)
    result |= {
        "server_cpu": server_cpu,
        "other_cpu": other,
        "send_wall_s": wall,
        "drain_wait_s": drained,
        "drained": drained is not None,
        **marks,
    }
    return result


def outcome(jira_url: str, ids: list[str], marks: dict[str, float]) -> dict[str, Any]:
    """Issues per escalation, from the sandbox's own state, and its create statuses."""
    issues = common.http_json("GET", f"{jira_url}/_bench/issues?values=1", timeout=120)["issues"]
    by_label = {correlation_label(eid): eid for eid in ids}
    known = set(ids)
    per: Counter[str] = Counter()
    for _id, labels, _created, values in issues:
        owners = {by_label[label] for label in labels if label in by_label}
        owners |= {value for value in values.values() if value in known}
        per.update(owners)
    creates = common.http_json("GET", f"{jira_url}/_sandbox/stats")["by_route"].get(
        CREATE_ROUTE, {}
    )
    last = max((float(created) for *_, created, _v in issues), default=float("nan"))
    return {
        "issues": len(issues),
        "duplicates": sum(n - 1 for n in per.values() if n > 1),
        "lost": sum(1 for eid in ids if per[eid] == 0),
        "jira_creates": dict(sorted(creates.items())),
        "last_create_after_outage_s": last - marks["outage_ended"] if marks else float("nan"),
    }


def progress(result: dict[str, Any]) -> str:
    """One line per finished run."""
    return (
        f"{result['scenario']} {result['target']}: p99 {result['ack_p99_ms']:.1f} ms, gave up "
        f"{result['gave_up']}, duplicates {result['duplicates']}, lost {result['lost']}, "
        f"Jira creates {result['jira_creates']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="guide,kt-jira")
    parser.add_argument("--scenarios", default="latency,outage")
    parser.add_argument("--rate", type=float, default=20.0, help="escalations/s")
    parser.add_argument("--count", type=int, default=200, help="escalations, latency scenario")
    parser.add_argument("--latency", type=float, default=0.5, help="s added to Jira calls")
    parser.add_argument("--outage", type=float, default=60.0, help="s of Jira outage")
    parser.add_argument("--outage-start", type=float, default=5.0)
    parser.add_argument("--outage-latency", type=float, default=0.1, help="Jira's latency")
    parser.add_argument("--tail", type=float, default=5.0, help="s of sends after the outage")
    parser.add_argument("--faithful", action="store_true", help="the guide's exact body")
    parser.add_argument("--drain-deadline", type=float, default=300.0)
    parser.add_argument("--quiet", type=float, default=0.5, help="cores of other load to wait")
    parser.add_argument("--quiet-wait", type=float, default=60.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not (0 < args.rate <= 200 and 0 < args.count <= 5000 and 0 < args.outage <= 600):
        parser.error("--rate 1..200, --count 1..5000, --outage up to 600 s")
    fields = Options.__dataclass_fields__
    options = Options(**{k: v for k, v in vars(args).items() if k in fields})
    results = []
    for scenario in args.scenarios.split(","):
        for name in args.targets.split(","):
            if name not in ("guide", "kt-jira") or scenario not in ("latency", "outage"):
                parser.error(f"unknown target {name!r} or scenario {scenario!r}")
            result = run(name, scenario, options)
            results.append(result)
            print(progress(result), flush=True)
    summary = report(results, options)
    print(f"\n{summary}")
    if args.json:
        doc = {"options": asdict(options), "results": results}
        args.json.write_text(json.dumps(doc, indent=2, default=str))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
