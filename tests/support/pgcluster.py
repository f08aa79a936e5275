"""A private, throwaway PostgreSQL cluster, for tests that must stop and start the server.

The machine's shared server (``tests.support.databases``) serves every other test and is never
restarted; this one lives in a temporary directory on a free port, trusts local connections, and
is removed on exit:

    with pgcluster.private_cluster() as cluster:
        cluster.stop(mode="immediate")   # a crash-like stop: no checkpoint, clients cut off
        cluster.start()                  # crash recovery, then accepting connections again

``initdb`` and ``pg_ctl`` come from ``pg_config --bindir`` or ``/usr/lib/postgresql/*/bin``. They
refuse to run as root, so as root they run as the ``postgres`` OS user (``runuser``) on a
directory that user owns. Without the binaries the test is skipped with the reason, or fails
under ``KT_JIRA_REQUIRE_POSTGRES=1``, as ``databases`` does for the shared server.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tests.support.databases import postgres_unavailable

OS_USER = "postgres"  #: who runs the server when the tests run as root
TOOLS = ("initdb", "pg_ctl")
TIMEOUT = 60  # seconds for one initdb or pg_ctl call
# fsync off: the data is thrown away, and what the server wrote survives its own crash (the
# kernel holds it), though not the machine's. synchronous_commit stays on: with it off, an
# immediate stop loses commits the server had already acknowledged.
SERVER_OPTIONS = "-c fsync=off"
StopMode = Literal["smart", "fast", "immediate"]


def postgres_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: ``pg_config --bindir``, else the newest
    ``/usr/lib/postgresql/<version>/bin``; ``None`` when neither has them."""
    candidates: list[Path] = []
    if shutil.which("pg_config"):
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            found = subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(found.stdout.strip()))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: _version(p.parent.name), reverse=True)
    for directory in candidates:
        if all((directory / tool).is_file() for tool in TOOLS):
            return directory
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, kw_only=True)
class PgCluster:
    """One cluster: its directory (data, socket and log), binaries, port and OS user."""

    directory: Path
    bindir: Path
    port: int
    run_as: str | None  #: the OS user the tools run as (``None``: this process's user)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def admin_url(self) -> str:
        """The maintenance database, as ``databases.temporary_postgres_database`` takes it."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-locale", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        """Start the server and wait until it accepts connections (after crash recovery)."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} {SERVER_OPTIONS}"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t",
            str(TIMEOUT), "start",
        )  # fmt: skip

    def stop(self, mode: StopMode = "fast") -> None:
        """``immediate`` is the crash-like stop: every backend is killed, nothing is flushed."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(TIMEOUT), "stop")

    @property
    def running(self) -> bool:
        status = self._command("pg_ctl", "-D", str(self.data), "status")
        return subprocess.run(status, capture_output=True, check=False).returncode == 0

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bindir / tool), *args]
        return ["runuser", "-u", self.run_as, "--", *command] if self.run_as else command

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            self._command(tool, *args), capture_output=True, text=True, check=False, timeout=TIMEOUT
        )
        if done.returncode != 0:
            log = self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{tool} {args[-1]} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n{log}"
            )


@contextlib.contextmanager
def private_cluster() -> Iterator[PgCluster]:
    """A started cluster of its own; stopped (immediately) and deleted on exit."""
    bindir = postgres_bindir()
    if bindir is None:
        postgres_unavailable(
            "initdb and pg_ctl were not found (pg_config --bindir, /usr/lib/postgresql/*/bin)"
        )
    run_as = None
    if os.geteuid() == 0:  # initdb and pg_ctl refuse to run as root
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            postgres_unavailable(f"running as root and there is no {OS_USER!r} OS user")
        run_as = OS_USER
    directory = Path(tempfile.mkdtemp(prefix="kt-jira-pg-"))
    try:
        if run_as is not None:
            shutil.chown(directory, run_as, run_as)
        cluster = PgCluster(directory=directory, bindir=bindir, port=_free_port(), run_as=run_as)
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.running:
                cluster.stop("immediate")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
