"""Ingest benchmark: signed Keeptrusts deliveries into ``kt-jira serve --no-worker``, side by
side with a bare Starlette endpoint on the same server stack (``bench.bare_server``).

Each measurement starts a fresh server process (and a fresh database): the real
``python -m kt_jira serve --config FILE --no-worker`` with the config in a temp dir, or the
bare baseline. A separate load-generator process (``bench.loadgen``) then sends unique,
HMAC-signed ~400-byte escalations:

* open loop at ``--rate`` deliveries/s for ``--duration`` s (latency from the scheduled send
  time), and
* closed loop with ``--connections`` concurrent keep-alive connections for
  ``--closed-duration`` s (maximum throughput).

After a kt-jira run the server is killed with SIGKILL (no graceful shutdown, nothing flushed
late) and the database is read with a plain driver: every escalation answered 202 must be there
with its accepted delivery and its queued ``create_issue`` job.

    .venv/bin/python -m bench.ingest                       # SQLite, 200/s for 20 s + closed loop
    .venv/bin/python -m bench.ingest --database postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python -m bench.ingest --repeat 2 --json /tmp/ingest.json

Traffic goes to 127.0.0.1 only; every run is bounded in count and time and stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    PYTHON,
    bridge_config,
    bridge_env,
    db_query,
    free_port,
    git_commit,
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

TARGETS = ("bare", "kt-jira")


@dataclass(frozen=True)
class Options:
    database: str
    rate: float
    duration: float
    connections: int
    closed_duration: float
    modes: tuple[str, ...]
    log_level: str
    warmup: int
    workdir: Path
    quiet: float
    lockstat: bool


@contextlib.contextmanager
def database_for(options: Options, tmp: Path) -> Iterator[str]:
    if options.database == "sqlite":
        yield f"sqlite:///{tmp / 'kt-jira.db'}"
    else:
        with scratch_postgres(options.database) as url:
            yield url


def loadgen_argv(mode: str, port: int, pid: int, out: Path, options: Options) -> list[str]:
    argv = [PYTHON, "-m", "bench.loadgen", "--port", str(port), "--mode", mode]
    argv += ["--prefix", run_prefix(), "--server-pid", str(pid), "--out", str(out)]
    argv += ["--warmup", str(options.warmup)]
    if mode == "open":
        argv += ["--rate", str(options.rate), "--duration", str(options.duration)]
    else:
        argv += ["--connections", str(options.connections)]
        argv += ["--duration", str(options.closed_duration)]
    return argv


def run_one(target: str, mode: str, options: Options) -> dict[str, Any]:
    """One fresh server of ``target``, one load-generator run of ``mode``, then the checks."""
    secret = secrets.token_hex(24)
    env = bridge_env(webhook_secret=secret)
    port = free_port()
    busy_before = wait_quiet(threshold=options.quiet)
    with tempfile.TemporaryDirectory(prefix="kt-bench-ingest-", dir=options.workdir) as tmp_name:
        tmp = Path(tmp_name)
        log = tmp / "server.log"
        with database_for(options, tmp) as db_url:
            if target == "bare":
                argv = [PYTHON, "-m", "bench.bare_server", "--port", str(port)]
            else:
                config = bridge_config(tmp / "kt-jira.yaml", database_url=db_url, port=port)
                if not db_url.startswith("sqlite"):
                    subprocess.run(
                        [PYTHON, "-m", "kt_jira", "migrate", "--config", str(config)],
                        check=True, env=env, capture_output=True,
                    )  # fmt: skip
                runner = "bench.lockstat" if options.lockstat else "kt_jira"
                argv = [PYTHON, "-m", runner, "--log-level", options.log_level]
                argv += ["serve", "--config", str(config), "--no-worker"]
            with process(argv, log=log, env=env) as server:
                wait_http(f"http://127.0.0.1:{port}/healthz", proc=server)
                out = tmp / "loadgen.json"
                subprocess.run(
                    loadgen_argv(mode, port, server.pid, out, options), check=True, env=env
                )
                result: dict[str, Any] = json.loads(out.read_text())
                result["server_rss_kib"] = proc_status(server.pid).get("VmHWM", 0)
                # No graceful shutdown: what was answered 202 must already be committed.
                # (--lockstat needs a clean exit to print its report.)
                stop(server, sig=signal.SIGTERM if options.lockstat else signal.SIGKILL)
            result["server_log_bytes"] = log.stat().st_size
            if options.lockstat and target == "kt-jira":
                text = log.read_text(errors="replace")
                print(text[text.rfind("kind   method") :], flush=True)
            accepted = result.pop("accepted_ids")
            if target == "kt-jira":
                result["durability"] = durability(db_url, accepted)
    result.update(
        target=target,
        database=_db_name(options.database),
        busy_before=busy_before,
        commit=git_commit(),
    )
    return result


def durability(db_url: str, accepted: list[str]) -> dict[str, Any]:
    """Every escalation answered 202 has its row, its accepted delivery and its queued job."""
    stored = {row[0] for row in db_query(db_url, "SELECT escalation_id FROM escalations")}
    deliveries = db_query(db_url, "SELECT count(*) FROM deliveries WHERE status = 'accepted'")
    jobs = db_query(
        db_url, "SELECT count(*) FROM jobs WHERE kind = 'create_issue' AND status = 'queued'"
    )
    missing = [eid for eid in accepted if eid not in stored]
    return {
        "answered_202": len(accepted),
        "escalations": len(stored),
        "accepted_deliveries": int(deliveries[0][0]),
        "queued_jobs": int(jobs[0][0]),
        "missing": len(missing),
        "missing_sample": missing[:5],
        "ok": not missing
        and int(deliveries[0][0]) == len(accepted)
        and int(jobs[0][0]) == len(accepted),
    }


def _db_name(database: str) -> str:
    return "sqlite" if database == "sqlite" else "postgresql"


def report(results: list[dict[str, Any]], options: Options) -> str:
    lines = [f"machine: {machine().line()}", f"database: {_db_name(options.database)}", ""]
    rows = []
    for r in results:
        dur = r.get("durability")
        stored = "-" if dur is None else f"{dur['answered_202'] - dur['missing']}"
        stored += "" if dur is None else f"/{dur['answered_202']}"
        rows.append(
            [
                r["mode"], r["target"], r["throughput"], r["p50_ms"], r["p99_ms"], r["max_ms"],
                r["errors"], r["server_cpu_share"], r["server_cpu_ms_per_delivery"],
                r["loadgen_cpu_share"],
                r["server_rss_kib"] // 1024, r["other_cores"],
                stored,
            ]
        )  # fmt: skip
    lines.append(
        table(
            ["mode", "target", "deliveries/s", "p50 ms", "p99 ms", "max ms", "errors",
             "server CPU", "CPU ms/req", "loadgen CPU", "RSS MiB", "other CPU", "202s in DB"],
            rows,
        )
    )  # fmt: skip
    lines.append("")
    for mode in options.modes:
        mine = [r for r in results if r["mode"] == mode]
        kt = [r for r in mine if r["target"] == "kt-jira"]
        bare = [r for r in mine if r["target"] == "bare"]
        if not kt or not bare:
            continue
        tput = statistics.median(r["throughput"] for r in kt) / statistics.median(
            r["throughput"] for r in bare
        )
        p99_kt = statistics.median(r["p99_ms"] for r in kt)
        p99_bare = statistics.median(r["p99_ms"] for r in bare)
        lines.append(
            f"{mode}: kt-jira/bare throughput {tput:.2f}x (median of {len(kt)}); "
            f"p99 {p99_kt:.1f} ms vs {p99_bare:.1f} ms ({p99_kt / p99_bare:.1f}x)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite", help="'sqlite' or a PostgreSQL URL")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--closed-duration", type=float, default=10.0)
    parser.add_argument("--modes", default="open,closed")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--log-level", default="info", help="kt-jira's --log-level (as shipped)")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--quiet", type=float, default=0.3,
        help="wait until the machine's load is under this many cores before each run",
    )  # fmt: skip
    parser.add_argument(
        "--lockstat", action="store_true", help="time the store's transactions (bench.lockstat)"
    )
    parser.add_argument("--json", type=Path, help="also write every result here")
    args = parser.parse_args(argv)
    options = Options(
        database=args.database,
        rate=args.rate,
        duration=args.duration,
        connections=args.connections,
        closed_duration=args.closed_duration,
        modes=tuple(m for m in args.modes.split(",") if m),
        log_level=args.log_level,
        warmup=args.warmup,
        workdir=Path(tempfile.gettempdir()),
        quiet=args.quiet,
        lockstat=args.lockstat,
    )
    targets = [t for t in args.targets.split(",") if t]
    results = []
    for round_ in range(args.repeat):
        for mode in options.modes:
            # Alternate the order each round so drift on the machine hits both sides.
            for target in targets if round_ % 2 == 0 else reversed(targets):
                started = time.monotonic()
                result = run_one(target, mode, options)
                result["round"] = round_ + 1
                results.append(result)
                print(
                    f"round {round_ + 1} {mode:6} {target:8} {result['throughput']:8.1f}/s "
                    f"p50 {result['p50_ms']:6.2f} ms p99 {result['p99_ms']:7.2f} ms "
                    f"max {result['max_ms']:7.1f} ms errors {result['errors']} "
                    f"durability {result.get('durability', {}).get('ok', '-')} "
                    f"other CPU {result['other_cores']:.2f} "
                    f"({time.monotonic() - started:.0f} s)",
                    flush=True,
                )
    print()
    print(report(results, options))
    if args.json:
        args.json.write_text(json.dumps({"options": vars(args) | {"json": str(args.json)},
                                         "results": results}, indent=2, default=str))  # fmt: skip
    failed = [r for r in results if r.get("durability") and not r["durability"]["ok"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
