"""Load generator for ``bench.ingest``: signed Keeptrusts deliveries over raw HTTP/1.1.

Run as its own process (``python -m bench.loadgen ...``) so it never shares the server's core
or GIL. It speaks minimal HTTP/1.1 with keep-alive directly on asyncio transports, because a
full client library would spend more CPU per request than a bare uvicorn endpoint does, and the
generator must not be the bottleneck of the baseline. Every delivery is signed exactly as
``kt_jira.signing.sign`` does (HMAC-SHA256 over the raw body, lowercase hex, ``sha256=``).

Two modes, both bounded in count and time and only towards 127.0.0.1:

* ``open``: deliveries scheduled at a fixed rate, independent of answers (open loop). Latency is
  measured from the *scheduled* send time, so a stalled server is not hidden (no coordinated
  omission). Connections come from a pool, opened on demand up to ``--max-connections``.
* ``closed``: ``--connections`` clients each send, wait for the answer, send again, for
  ``--duration`` seconds: the maximum throughput the server sustains at that concurrency.

The JSON result (counts, statuses, latency percentiles, this process's CPU, the server
process's CPU over the measured window, and the escalation ids answered 202) goes to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import busy_cores, cpu_jiffies, cpu_seconds, escalation_body, percentile
from kt_jira.signing import SignatureScheme, sign

HOST = "127.0.0.1"
PATH = "/webhooks/keeptrusts"
SCHEME = SignatureScheme()


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._parse()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc!r}"))

    def _parse(self) -> None:
        if self.waiter is None or self.waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).decode("latin-1")
        lines = head.split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            lowered = name.strip().lower()
            if lowered == "content-length":
                length = int(value.strip())
            elif lowered == "connection" and value.strip().lower() == "close":
                self.closed = True
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        body = bytes(self.buffer[end + 4 : total])
        del self.buffer[:total]
        self.waiter.set_result((status, body))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def connect(port: int) -> Connection:
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(Connection, HOST, port)
    return conn


@dataclass
class Delivery:
    escalation_id: str
    data: bytes


class Deliveries:
    """Unique signed deliveries ``<prefix>_<n>``, built as raw HTTP requests."""

    def __init__(self, *, prefix: str, secret: str, port: int) -> None:
        self.prefix = prefix
        self.secret = secret
        self.host = f"{HOST}:{port}"
        self.n = 0

    def next(self) -> Delivery:
        n = self.n
        self.n += 1
        escalation_id = f"{self.prefix}_{n:07d}"
        body = escalation_body(escalation_id, n)
        headers = {
            "Host": self.host,
            "User-Agent": "Keeptrusts-Webhooks/1.0 (kt-jira bench)",
            "Content-Type": "application/json",
            "X-Keeptrusts-Event": "escalation.created",
            "X-Keeptrusts-Delivery": f"dlv_{escalation_id}",
            **sign(self.secret, body, SCHEME),
            "Content-Length": str(len(body)),
        }
        head = f"POST {PATH} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return Delivery(escalation_id, head.encode() + b"\r\n" + body)


@dataclass
class Recorder:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)
    first_send: float = float("inf")
    last_done: float = 0.0
    sample_body: str = ""

    def record(self, delivery: Delivery, started: float, status: int | str, body: bytes) -> None:
        done = time.perf_counter()
        self.latencies.append(done - started)
        self.statuses[str(status)] += 1
        if status == 202:
            self.accepted.append(delivery.escalation_id)
        elif not self.sample_body:
            self.sample_body = f"{status}: {body[:300]!r}"
        self.first_send = min(self.first_send, started)
        self.last_done = max(self.last_done, done)


class Pool:
    """Idle keep-alive connections; opens a new one when none is idle, up to ``limit``."""

    def __init__(self, port: int, limit: int) -> None:
        self.port = port
        self.limit = limit
        self.idle: list[Connection] = []
        self.open = 0
        self.peak = 0
        self.freed = asyncio.Condition()

    async def get(self) -> Connection:
        async with self.freed:
            while True:
                while self.idle:
                    conn = self.idle.pop()
                    if not conn.closed:
                        return conn
                    self.open -= 1
                if self.open < self.limit:
                    self.open += 1
                    self.peak = max(self.peak, self.open)
                    break
                await self.freed.wait()
        try:
            return await connect(self.port)
        except BaseException:
            async with self.freed:
                self.open -= 1
                self.freed.notify()
            raise

    async def put(self, conn: Connection) -> None:
        async with self.freed:
            if conn.closed:
                self.open -= 1
            else:
                self.idle.append(conn)
            self.freed.notify()

    def close(self) -> None:
        for conn in self.idle:
            conn.close()


async def send(pool: Pool, delivery: Delivery, started: float, recorder: Recorder) -> None:
    conn = await pool.get()
    try:
        status, body = await conn.request(delivery.data)
    except (ConnectionError, OSError) as exc:
        conn.closed = True
        recorder.record(delivery, started, type(exc).__name__, b"")
    else:
        recorder.record(delivery, started, status, body)
    finally:
        await pool.put(conn)


async def warm_up(port: int, deliveries: Deliveries, count: int) -> list[str]:
    """``count`` deliveries over 4 connections before measuring; their 202 ids are returned."""
    pool = Pool(port, 4)
    recorder = Recorder()
    queue = [deliveries.next() for _ in range(count)]

    async def client() -> None:
        while queue:
            delivery = queue.pop()
            await send(pool, delivery, time.perf_counter(), recorder)

    await asyncio.gather(*(client() for _ in range(4)))
    pool.close()
    return recorder.accepted


async def open_loop(
    port: int, deliveries: Deliveries, *, rate: float, duration: float, max_connections: int
) -> tuple[Recorder, dict[str, Any]]:
    count = round(rate * duration)
    planned = [deliveries.next() for _ in range(count)]  # signed before the clock starts
    pool = Pool(port, max_connections)
    recorder = Recorder()
    tasks: list[asyncio.Task[None]] = []
    late = 0
    start = time.perf_counter() + 0.05
    for i, delivery in enumerate(planned):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.005:
            late += 1
        tasks.append(asyncio.create_task(send(pool, delivery, due, recorder)))
    # Everything was sent by now; answers get at most 30 s more.
    _, pending = await asyncio.wait(tasks, timeout=30)
    for task in pending:
        task.cancel()
    recorder.statuses["timeout"] += len(pending)
    pool.close()
    recorder.first_send = min(recorder.first_send, start)
    return recorder, {"planned": count, "late_sends": late, "peak_connections": pool.peak}


async def closed_loop(
    port: int, deliveries: Deliveries, *, connections: int, duration: float, max_requests: int
) -> tuple[Recorder, dict[str, Any]]:
    recorder = Recorder()
    deadline = time.perf_counter() + duration
    sent = 0

    async def client() -> None:
        nonlocal sent
        conn = await connect(port)  # each client keeps its own connection
        while time.perf_counter() < deadline and sent < max_requests:
            sent += 1
            delivery = deliveries.next()
            started = time.perf_counter()
            if conn.closed:
                conn = await connect(port)
            try:
                status, body = await conn.request(delivery.data)
            except (ConnectionError, OSError) as exc:
                conn.closed = True
                recorder.record(delivery, started, type(exc).__name__, b"")
            else:
                recorder.record(delivery, started, status, body)
        conn.close()

    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(connections))), duration + 60)
    return recorder, {"connections": connections}


def summarise(recorder: Recorder, extra: dict[str, Any]) -> dict[str, Any]:
    lat = sorted(recorder.latencies)
    span = max(1e-9, recorder.last_done - recorder.first_send)
    ok = recorder.statuses.get("202", 0)
    return {
        **extra,
        "completed": len(lat),
        "accepted": ok,
        "errors": len(lat) - ok + recorder.statuses.get("timeout", 0),
        "statuses": dict(recorder.statuses),
        "sample_error": recorder.sample_body,
        "seconds": span,
        "throughput": ok / span,
        "p50_ms": percentile(lat, 50) * 1000,
        "p90_ms": percentile(lat, 90) * 1000,
        "p99_ms": percentile(lat, 99) * 1000,
        "p999_ms": percentile(lat, 99.9) * 1000,
        "max_ms": (lat[-1] if lat else float("nan")) * 1000,
        "mean_ms": (sum(lat) / len(lat) if lat else float("nan")) * 1000,
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    deliveries = Deliveries(prefix=args.prefix, secret=args.secret, port=args.port)
    warm_ids = await warm_up(args.port, deliveries, args.warmup) if args.warmup else []
    cpu0, server_cpu0 = time.process_time(), cpu_seconds(args.server_pid)
    machine0 = cpu_jiffies()
    wall0 = time.perf_counter()
    if args.mode == "open":
        recorder, extra = await open_loop(
            args.port,
            deliveries,
            rate=args.rate,
            duration=args.duration,
            max_connections=args.max_connections,
        )
    else:
        recorder, extra = await closed_loop(
            args.port,
            deliveries,
            connections=args.connections,
            duration=args.duration,
            max_requests=args.max_requests,
        )
    wall = time.perf_counter() - wall0
    result = summarise(recorder, {"mode": args.mode, **extra})
    result["loadgen_cpu_share"] = (time.process_time() - cpu0) / wall
    server_cpu = cpu_seconds(args.server_pid) - server_cpu0
    result["server_cpu_share"] = server_cpu / wall
    result["server_cpu_ms_per_delivery"] = 1000 * server_cpu / max(1, result["completed"])
    # Everything else the machine did meanwhile (other users' jobs; PostgreSQL's backends).
    result["machine_busy_cores"] = busy_cores(machine0, cpu_jiffies())
    result["other_cores"] = (
        result["machine_busy_cores"] - result["server_cpu_share"] - result["loadgen_cpu_share"]
    )
    result["warmup_accepted"] = len(warm_ids)
    result["accepted_ids"] = warm_ids + recorder.accepted
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", default=os.environ.get("KT_BENCH_WEBHOOK_SECRET", ""))
    parser.add_argument("--prefix", required=True, help="escalation id prefix (unique per run)")
    parser.add_argument("--mode", choices=("open", "closed"), default="open")
    parser.add_argument("--rate", type=float, default=200.0, help="open loop: deliveries/s")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds (max 300)")
    parser.add_argument("--max-connections", type=int, default=256, help="open loop pool size")
    parser.add_argument("--connections", type=int, default=16, help="closed loop concurrency")
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--server-pid", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("--secret or KT_BENCH_WEBHOOK_SECRET is required")
    if not 0 < args.duration <= 300 or args.rate > 20_000 or args.max_requests > 1_000_000:
        parser.error("bounded runs only: duration <= 300 s, rate <= 20000/s")
    result = asyncio.run(main_async(args))
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
