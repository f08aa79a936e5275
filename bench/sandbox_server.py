"""The sandbox Jira Cloud (``kt_jira.sandbox.JiraSandbox``) in a process of its own.

Used by ``bench.drain`` so the simulated Jira never shares a core or the GIL with the bridge or
the baseline client. The burst rate limit and the latency fault are set from the command line;
``/_sandbox/stats``, ``/_sandbox/issues`` and ``/_sandbox/faults`` are the way to look inside.

    python -m bench.sandbox_server --port 8100 --rate-limit 50 --latency 0.1
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, serve_app


def with_summary(sandbox: JiraSandbox) -> Starlette:
    """The sandbox app plus ``GET /_bench/issues``: id, labels and creation time of every issue
    (``/_sandbox/issues`` sends whole issues, hundreds of MB for a 10,000-issue drain); with
    ``?values=1`` a fourth column holds the issue's string custom field values by field id."""

    async def issues(request: Request) -> JSONResponse:
        if request.query_params.get("values"):
            rows = [[i.id, i.labels, i.created, _custom_strings(i.values)] for i in sandbox.issues]
        else:
            rows = [[i.id, i.labels, i.created] for i in sandbox.issues]
        return JSONResponse({"issues": rows})

    return Starlette(routes=[Route("/_bench/issues", issues), Mount("/", sandbox.app)])


def _custom_strings(values: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in values.items() if k.startswith("customfield_") and isinstance(v, str)}


async def serve(args: argparse.Namespace) -> None:
    sandbox = JiraSandbox(
        JiraSandboxSettings(
            rate_limit=args.rate_limit,
            rate_burst=args.burst,
            search_lag=args.search_lag,
            retry_after=args.retry_after,
        )
    )
    sandbox.faults.update({"latency": args.latency})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with serve_app(with_summary(sandbox), port=args.port) as url:
        print(f"sandbox Jira at {url}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sandbox Jira Cloud for bench.drain")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate-limit", type=float, default=50.0, help="requests/s per endpoint")
    parser.add_argument("--burst", type=int, default=10, help="token-bucket size per endpoint")
    parser.add_argument("--retry-after", type=int, default=1, help="seconds a 429 announces")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every call")
    parser.add_argument("--search-lag", type=float, default=2.0)
    asyncio.run(serve(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
