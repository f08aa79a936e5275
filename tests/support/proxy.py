"""A forward proxy on loopback that only tunnels (``CONNECT``), as corporate proxies do for
https: it records every target it was asked for and, when given credentials, answers 407 to a
request without ``Proxy-Authorization`` for them. Hand-written because no package the project
depends on serves one, and a tunnel is only a header and two byte pumps."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator


class ConnectProxy:
    """``targets`` lists each ``host:port`` tunnelled to, in order; ``refused`` counts 407s."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.targets: list[str] = []
        self.refused = 0
        pair = f"{credentials[0]}:{credentials[1]}".encode() if credentials else None
        self._expected = f"Basic {base64.b64encode(pair).decode()}" if pair else None
        self._tasks: set[asyncio.Task[None]] = set()

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, target, _ = head[0].split(" ", 2)
            headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
            given = {k.lower(): v for k, v in headers.items()}.get("proxy-authorization")
            if method != "CONNECT":
                writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            if self._expected is not None and given != self._expected:
                self.refused += 1
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                return
            self.targets.append(target)
            host, _, port = target.rpartition(":")
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            await asyncio.gather(_pump(reader, upstream_writer), _pump(upstream_reader, writer))
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # a client gone, a bad request, or the proxy stopping: the tunnel just ends
        finally:
            writer.close()
            self._tasks.discard(task)

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Listen on loopback; yields the proxy's URL (``http://127.0.0.1:PORT``)."""
        server = await asyncio.start_server(self._tunnel, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


__all__ = ["ConnectProxy"]
