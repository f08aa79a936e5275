"""Public helpers for the acceptance suite: the real ``kt-jira`` process, its config file, the
sandbox Jira served from a thread, deadline-based polling, and readers of the sandbox's state.

The bridge is only ever driven from outside: a YAML file with DESIGN.md's key paths, secrets as
``env:NAME`` references in the subprocess environment, HTTP on loopback, and its CLI. Nothing here
imports the bridge's internals; the sandbox and the correlation label are the only shared code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml
from starlette.types import ASGIApp

from kt_jira.render.sanitise import correlation_label
from kt_jira.sandbox import (
    JiraSandbox,
    JiraSandboxSettings,
    KeeptrustsSandbox,
    KeeptrustsSandboxSettings,
    SandboxIssue,
    serve_app_in_thread,
)
from tests.support.contracts import RequestValidator, make_request_validator, validate_adf

T = TypeVar("T")
Json = dict[str, Any]

PROJECT = "AIGOV"
CONSOLE_URL = "https://console.keeptrusts.com"
FIELD_NAMES = {
    "escalation_id": "Escalation ID",
    "policy_name": "Policy Name",
    "model": "Model",
    "gateway_id": "Gateway ID",
    "console_url": "Console URL",
}
# Short settings so the whole suite stays within a few minutes on two cores.
CONSISTENCY_DELAY = 2.0
LEASE_SECONDS = 3.0
JIRA_TIMEOUT = 2.0
STOP_DEADLINE = 20.0
START_DEADLINE = 30.0


# -- finding the executable and a port ---------------------------------------------------------


def kt_jira_executable() -> str:
    """The ``kt-jira`` console script of this interpreter's environment (the venv's)."""
    beside = Path(sys.executable).parent / "kt-jira"
    if beside.is_file():
        return str(beside)
    found = shutil.which("kt-jira")
    if found is None:
        raise RuntimeError("the kt-jira console script is not installed: run scripts/test")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- secrets and the config file ---------------------------------------------------------------


@dataclass(frozen=True)
class Secrets:
    """Recognisable secret values, handed to the bridge only through its environment."""

    webhook: str = field(default_factory=lambda: f"acc-webhook-secret-{secrets.token_hex(12)}")
    jira_token: str = field(default_factory=lambda: f"acc-jira-token-{secrets.token_hex(12)}")
    admin: str = field(default_factory=lambda: f"acc-admin-token-{secrets.token_hex(12)}")
    keeptrusts_token: str = field(default_factory=lambda: f"acc-kt-token-{secrets.token_hex(12)}")
    jira_webhook: str = field(default_factory=lambda: f"acc-jira-hook-{secrets.token_hex(12)}")

    def environ(self) -> dict[str, str]:
        return {
            "KEEPTRUSTS_WEBHOOK_SECRET": self.webhook,
            "JIRA_API_TOKEN": self.jira_token,
            "KT_JIRA_ADMIN_TOKEN": self.admin,
            "KEEPTRUSTS_API_TOKEN": self.keeptrusts_token,
            "JIRA_WEBHOOK_SECRET": self.jira_webhook,
        }

    @property
    def values(self) -> list[str]:
        return list(self.environ().values())


def merge(base: Json, overrides: Mapping[str, Any]) -> Json:
    """``base`` with ``overrides`` merged in depth (a ``None`` value deletes the key)."""
    out = dict(base)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def bridge_config(
    *, database: Path, port: int, jira_url: str, keeptrusts_url: str, email: str
) -> Json:
    """The config file's content, with exactly DESIGN.md's key paths and short timings."""
    return {
        "database_url": f"sqlite:///{database}",
        "server": {"host": "127.0.0.1", "port": port, "admin_token": "env:KT_JIRA_ADMIN_TOKEN"},
        "keeptrusts": {
            "api_url": keeptrusts_url,
            "api_token": "env:KEEPTRUSTS_API_TOKEN",
            "console_url": CONSOLE_URL,
            "webhook": {"secrets": ["env:KEEPTRUSTS_WEBHOOK_SECRET"]},
        },
        "jira": {
            "url": jira_url,
            "flavor": "cloud",
            "email": email,
            "api_token": "env:JIRA_API_TOKEN",
            "project": PROJECT,
            "webhook_secret": "env:JIRA_WEBHOOK_SECRET",
            "fields": dict(FIELD_NAMES),
            "timeout_seconds": JIRA_TIMEOUT,
            "search_consistency_delay_seconds": CONSISTENCY_DELAY,
        },
        "worker": {
            "lease_seconds": LEASE_SECONDS,
            "poll_interval_seconds": 0.2,
            "backoff_base_seconds": 0.2,
            "backoff_max_seconds": 2.0,
            "shutdown_grace_seconds": 3.0,
        },
        "rules": [],
    }


def write_config(path: Path, content: Json) -> Path:
    path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True), "utf-8")
    return path


def bridge_environ(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without inherited ``KT_JIRA__`` overrides, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KT_JIRA__")}
    env.update({"KT_JIRA_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    env.update(extra)
    return env


# -- the bridge process ------------------------------------------------------------------------


@dataclass
class BridgeProcess:
    """``kt-jira serve --config FILE`` as a child process; its output goes to ``log_dir``."""

    name: str
    config: Path
    env: dict[str, str]
    port: int
    log_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    killed: bool = False
    stopped: bool = False  #: sent SIGTERM by ``terminate()``: its exit is expected
    logs: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhooks/keeptrusts"

    def start(self) -> None:
        """Start a new ``serve`` process (after a crash: on the same database and port)."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"{self.name} is already running")
        self.killed = self.stopped = False
        log = self.log_dir / f"{self.name}-{len(self.logs) + 1}.log"
        self.logs.append(log)
        with log.open("wb") as sink:
            self.proc = subprocess.Popen(
                [kt_jira_executable(), "serve", "--config", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                env=self.env,
                start_new_session=True,
            )

    async def wait_healthy(self, deadline: float = START_DEADLINE) -> None:
        """Poll ``/healthz`` until it answers 200; fail early if the process exits."""
        end = time.monotonic() + deadline
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < end:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"{self.name} exited with {self.proc.returncode} before it was healthy:"
                        f"\n{self.output()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise AssertionError(f"{self.name} was not healthy within {deadline}s:\n{self.output()}")

    def kill9(self) -> None:
        """SIGKILL: no handler runs, no lease is released, nothing is flushed."""
        assert self.proc is not None
        self.killed = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=STOP_DEADLINE)

    def terminate(self) -> None:
        """SIGTERM, once, if it is running; ``stop()`` waits for the exit."""
        if self.proc is not None and self.proc.poll() is None and not self.stopped:
            self.proc.send_signal(signal.SIGTERM)
            self.stopped = True

    def stop(self) -> int | None:
        """SIGTERM and wait; kill it (and note a problem) if it does not stop in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None and not self.stopped:
            if not self.killed:
                self.problems.append(f"{self.name} exited on its own with {self.proc.returncode}")
            return self.proc.returncode
        self.terminate()
        try:
            code = self.proc.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_DEADLINE)
            self.problems.append(f"{self.name} ignored SIGTERM for {STOP_DEADLINE}s and was killed")
            return None
        if code != 0:
            self.problems.append(f"{self.name} exited with {code} after SIGTERM")
        return code

    def output(self, *, tail: int = 300) -> str:
        """The last ``tail`` lines of every run's stdout and stderr."""
        parts = []
        for log in self.logs:
            text = log.read_text("utf-8", errors="replace") if log.exists() else ""
            lines = text.splitlines()[-tail:]
            parts.append(f"--- {log.name} ---\n" + "\n".join(lines))
        return "\n".join(parts)


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def run_cli(args: list[str], *, env: Mapping[str, str], timeout: float = 60.0) -> CliResult:
    """Run ``kt-jira ARGS`` to completion and capture its output."""
    done = subprocess.run(
        [kt_jira_executable(), *args],
        env=dict(env),
        capture_output=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return CliResult(
        done.returncode,
        done.stdout.decode("utf-8", errors="replace"),
        done.stderr.decode("utf-8", errors="replace"),
    )


# -- the sandbox Jira in a thread --------------------------------------------------------------


@dataclass
class JiraSite:
    """A sandbox Jira Cloud (every request checked against Atlassian's contracts), served from a
    thread of the test process so tests can read its state and flip its faults."""

    sandbox: JiraSandbox
    url: str

    def issues(self) -> list[SandboxIssue]:
        # A C-level copy of the dict: safe while the server thread inserts.
        return list(self.sandbox.state.issues.values())

    def issues_for(self, escalation_id: str) -> list[SandboxIssue]:
        label = correlation_label(escalation_id)
        return [issue for issue in self.issues() if label in issue.labels]

    def count_by_escalation(self, escalation_ids: list[str]) -> dict[str, int]:
        labels = {correlation_label(e): e for e in escalation_ids}
        counts = dict.fromkeys(escalation_ids, 0)
        for issue in self.issues():
            for label in issue.labels:
                if label in labels:
                    counts[labels[label]] += 1
        return counts

    def view(self, issue: SandboxIssue) -> Json:
        return self.sandbox.view(issue)

    def screen_field_ids(self, name: str) -> set[str]:
        """Ids of the fields named exactly ``name`` on any AIGOV create screen."""
        site = self.sandbox.state.site
        named = {f.id for f in site.fields if f.name == name}
        screens = site.projects[PROJECT].screens.values()
        return {fid for screen in screens for fid in screen.fields if fid in named}

    def real_field_ids(self) -> dict[str, str]:
        """Configured field name -> the id of the one field of that exact name on the AIGOV
        create screens (the sandbox also has look-alike decoys)."""
        site = self.sandbox.state.site
        screens = site.projects[PROJECT].screens.values()
        on_screen = set.intersection(*(set(s.fields) for s in screens))
        out = {}
        for name in FIELD_NAMES.values():
            ids = [f.id for f in site.fields if f.name == name and f.id in on_screen]
            assert len(ids) == 1, f"sandbox set-up: {name!r} on screen as {ids}"
            out[name] = ids[0]
        return out


# -- Atlassian's contracts, checked fast enough for a live sandbox ------------------------------

_EMPTY_DOC: Json = {"type": "doc", "version": 1, "content": []}
_ADF_SHAPES: dict[str, str | None] = {}
_ADF_LOCK = threading.Lock()


def _adf_shape(node: object) -> object:
    """``node`` with every text node's text and every link's href replaced by ``"x"``.

    In the ADF schema a text node's ``text`` is only ``minLength: 1`` and a link's ``href`` only
    ``type: string``, so the shape is valid exactly when the document is."""
    if isinstance(node, list):
        return [_adf_shape(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, object] = {key: _adf_shape(value) for key, value in node.items()}
    if node.get("type") == "text" and isinstance(node.get("text"), str) and node["text"]:
        out["text"] = "x"
    if node.get("type") == "link" and isinstance(node.get("attrs"), dict):
        attrs = dict(node["attrs"])
        if isinstance(attrs.get("href"), str):
            attrs["href"] = "x"
        out["attrs"] = attrs
    return out


def _check_adf_shape(doc: object, where: str) -> None:
    key = json.dumps(_adf_shape(doc), sort_keys=True)
    with _ADF_LOCK:
        if key not in _ADF_SHAPES:
            try:
                validate_adf(doc, where=where)
            except AssertionError as exc:
                _ADF_SHAPES[key] = str(exc)
            else:
                _ADF_SHAPES[key] = None
        problem = _ADF_SHAPES[key]
    if problem is not None:
        raise AssertionError(problem)


def _adf_slots(path: str, body: object) -> Iterator[tuple[str, Json, str]]:
    """(where, container, key) of every ADF document in a Jira Cloud request body."""
    if not isinstance(body, dict):
        return
    fields = body.get("fields")
    if isinstance(fields, dict):
        for name in ("description", "environment"):
            if isinstance(fields.get(name), dict):
                yield f"fields.{name}", fields, name
    update = body.get("update")
    if isinstance(update, dict):
        for index, op in enumerate(update.get("comment") or []):
            for verb in ("add", "edit"):
                if (
                    isinstance(op, dict)
                    and isinstance(op.get(verb), dict)
                    and isinstance(op[verb].get("body"), dict)
                ):
                    yield f"update.comment[{index}].{verb}.body", op[verb], "body"
        for index, op in enumerate(update.get("description") or []):
            if isinstance(op, dict) and isinstance(op.get("set"), dict):
                yield f"update.description[{index}].set", op, "set"
    if re.search(r"/comment(/[^/]+)?\Z", path) and isinstance(body.get("body"), dict):
        yield "body", body, "body"


def contract_validator() -> RequestValidator:
    """``make_request_validator()``'s verdicts, fast: each ADF document is checked against the
    ADF schema once per shape (about a second per new shape; the sandbox runs validators on its
    event loop, so an uncached check would stall every other request behind it), and the rest of
    the body against the OpenAPI spec with the documents stood in for by an empty one."""
    full = make_request_validator()
    full("GET", "/rest/api/3/myself", None)  # load the spec now, not on the first request

    def validate(method: str, path: str, body: object) -> None:
        if not any(_adf_slots(path, body)):
            full(method, path, body)
            return
        stripped = json.loads(json.dumps(body))
        for where, container, key in _adf_slots(path, stripped):
            document = container[key]
            _check_adf_shape(document, f"{where} in {method} {path}")
            container[key] = _EMPTY_DOC
        full(method, path, stripped)

    return validate


@contextlib.contextmanager
def serve_jira(
    *, wrap: Callable[[ASGIApp], ASGIApp] | None = None, **settings: Any
) -> Iterator[JiraSite]:
    """Serve a sandbox Jira with ``settings``; ``wrap`` puts middleware in front of it (such as
    ``replicas.RequestLog``)."""
    settings.setdefault("search_lag", 1.0)
    settings.setdefault("api_token", f"acc-jira-token-{secrets.token_hex(12)}")
    sandbox = JiraSandbox(JiraSandboxSettings(request_validator=contract_validator(), **settings))
    with serve_app_in_thread(wrap(sandbox.app) if wrap else sandbox.app) as url:
        yield JiraSite(sandbox, url)


@contextlib.contextmanager
def serve_keeptrusts(api_token: str) -> Iterator[tuple[KeeptrustsSandbox, str]]:
    sandbox = KeeptrustsSandbox(KeeptrustsSandboxSettings(api_token=api_token))
    with serve_app_in_thread(sandbox.app) as url:
        yield sandbox, url


# -- polling with deadlines --------------------------------------------------------------------


async def eventually(
    check: Callable[[], T | Awaitable[T]], *, timeout: float, interval: float = 0.1
) -> T:
    """Call ``check`` until it stops raising ``AssertionError``; re-raise the last one at the
    deadline. The deadline bounds waiting; no assertion is ever about speed."""
    end = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            return result  # type: ignore[return-value]
        except AssertionError:
            if time.monotonic() >= end:
                raise
        await asyncio.sleep(interval)


# -- reading ADF -------------------------------------------------------------------------------


def adf_nodes(node: object) -> Iterator[Json]:
    if isinstance(node, dict):
        yield node
        for child in node.get("content") or []:
            yield from adf_nodes(child)


def adf_text(node: object) -> str:
    """The visible text of an ADF node: text nodes joined, hard breaks as newlines."""
    parts = []
    for item in adf_nodes(node):
        if item.get("type") == "text":
            parts.append(str(item.get("text", "")))
        elif item.get("type") == "hardBreak":
            parts.append("\n")
    return "".join(parts)


def adf_links(doc: object) -> list[str]:
    return [
        str(mark["attrs"]["href"])
        for node in adf_nodes(doc)
        for mark in node.get("marks") or []
        if mark.get("type") == "link"
    ]


def adf_table_value(doc: object, row_name: str) -> str | None:
    """The second cell's text of the table row whose first cell reads ``row_name``."""
    for node in adf_nodes(doc):
        if node.get("type") == "tableRow":
            cells = node.get("content") or []
            if len(cells) >= 2 and adf_text(cells[0]).strip() == row_name:
                return adf_text(cells[1])
    return None
