"""``kt-jira doctor``: the operator's one-stop health check, one ``Check`` per line.

In order: the config and its secrets, the database and its schema, everything Jira and
Keeptrusts must offer (``doctor_sites``), and the queue: dead letters, the oldest waiting job,
an active Jira pause. A check whose prerequisite failed is skipped, not failed again. It only
reads, and no message carries a secret (the database URL is shown without its password).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kt_jira.commands.check_config import offline_problems
from kt_jira.config.loader import iter_secrets
from kt_jira.config.models import Settings
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import ConfigError
from kt_jira.store import Store, open_store
from kt_jira.store.engine import normalise_url

__all__ = ["Check", "config_failure", "exit_code", "render_line", "run_doctor", "skip"]

DEFAULT_MAX_QUEUE_AGE = timedelta(minutes=15)


@dataclass(frozen=True, kw_only=True)
class Check:
    """One line of the report. ``fix`` says what to do when it failed; ``skipped`` marks a
    check that could not run (a prerequisite failed, or there was nothing to look at)."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    skipped: bool = False

    @property
    def status(self) -> str:
        return "skipped" if self.skipped else "passed" if self.ok else "failed"

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"status": self.status}


def skip(name: str, detail: str) -> Check:
    return Check(name=name, ok=False, detail=detail, skipped=True)


def exit_code(checks: list[Check]) -> int:
    """0 when nothing failed (skipped checks do not count), else 1."""
    return 1 if any(not c.ok and not c.skipped for c in checks) else 0


def render_line(check: Check, *, unicode: bool) -> str:
    """``✓ name: detail`` / ``✗ name: detail — fix: ...``, or ASCII for pipes and logs."""
    marks = {"passed": "✓", "failed": "✗", "skipped": "-"} if unicode else {}
    mark = marks.get(check.status) or {"passed": "[ok]", "failed": "[FAIL]"}.get(
        check.status, "[skip]"
    )
    dash = "—" if unicode else "--"
    fix = f" {dash} fix: {check.fix}" if check.fix and not check.ok else ""
    return f"{mark} {check.name}: {check.detail}{fix}"


def config_failure(path: Path, exc: ConfigError) -> Check:
    """The first check when the file cannot be loaded (the command then exits 2)."""
    return Check(
        name="config",
        ok=False,
        detail=f"{path} cannot be loaded: {exc}",
        fix=f"fix the file, then `kt-jira check-config --config {path}`",
    )


async def run_doctor(
    settings: Settings,
    *,
    config_path: Path,
    public_url: str | None,
    max_queue_age: timedelta = DEFAULT_MAX_QUEUE_AGE,
    now: Callable[[], datetime],
) -> list[Check]:
    """Every check, in order; never raises for what it finds (each finding is a ``Check``)."""
    from kt_jira.commands.doctor_sites import jira_checks, keeptrusts_checks

    checks = [_config_check(settings, config_path)]
    async with open_store(settings.database_url, password=settings.database_password) as store:
        database = await _database_checks(store, settings, config_path)
        checks += database
        url = public_url or settings.server.public_url
        checks += await jira_checks(settings, config=config_path, public_url=url)
        checks += await keeptrusts_checks(settings, config=config_path, public_url=url)
        if all(c.ok for c in database):
            checks += await _queue_checks(store, config_path, max_queue_age, now())
        else:
            why = "the database is not usable (see above)"
            checks += [skip(name, why) for name in ("dead letters", "queue age", "jira pause")]
    secrets = [_value(secret) for _key, secret in iter_secrets(settings)]
    return [redact(check, secrets) for check in checks]


def _value(secret: SecretRef) -> str:
    try:
        return secret.reveal()
    except ConfigError:
        return ""


def _config_check(settings: Settings, path: Path) -> Check:
    """The file loaded; every secret resolves (values are never shown); the content rules hold."""
    problems: list[str] = []
    for _key, secret in iter_secrets(settings):
        try:
            secret.reveal()
        except ConfigError as exc:
            problems.append(str(exc))
    problems += offline_problems(settings)
    if problems:
        return Check(
            name="config",
            ok=False,
            detail="; ".join(problems),
            fix=f"fix each problem named, then `kt-jira check-config --config {path}`",
        )
    rules = len(settings.rules) or "the guide's defaults"
    detail = f"{path} is valid (project {settings.jira.project}, {settings.jira.flavor}, rules: "
    return Check(name="config", ok=True, detail=f"{detail}{rules}); its secrets resolve")


async def _database_checks(store: Store, settings: Settings, path: Path) -> list[Check]:
    where = normalise_url(settings.database_url).render_as_string(hide_password=True)
    try:
        await store.db.ping()
    except Exception as exc:  # the driver's own errors (refused, auth, no such file...)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        failed = Check(
            name="database",
            ok=False,
            detail=f"cannot reach {where}: {reason}",
            fix="check database_url and that the database server is up and accepts the user",
        )
        return [failed, skip("migrations", "the database is not reachable")]
    reached = Check(name="database", ok=True, detail=f"{where} answers")
    schema = await store.db.schema_status()
    current, head = schema.current, schema.head
    if schema.state == "current":
        return [reached, Check(name="migrations", ok=True, detail=f"schema at head ({head})")]
    if schema.state == "ahead":
        migrations = Check(
            name="migrations",
            ok=False,
            detail=f"schema at {current}, newer than this kt-jira (it knows up to {head})",
            fix="upgrade kt-jira on this host to the version that migrated the database",
        )
        return [reached, migrations]
    migrations = Check(
        name="migrations",
        ok=False,
        detail=f"schema at {current or 'nothing (empty database)'}, the code needs {head}",
        fix=f"kt-jira migrate --config {path}",
    )
    return [reached, migrations]


async def _queue_checks(store: Store, path: Path, max_age: timedelta, now: datetime) -> list[Check]:
    counts = await store.queue.counts()
    dead = counts.get("dead", 0)
    checks = [
        Check(name="dead letters", ok=True, detail="none")
        if not dead
        else Check(
            name="dead letters",
            ok=False,
            detail=f"{dead} job(s) failed permanently and wait in the dead-letter queue",
            fix=f"`kt-jira jobs list --config {path} --status dead` shows each error; fix its "
            f"cause, then `kt-jira jobs replay --config {path}`",
        )
    ]
    oldest = await store.reports.oldest_queued()
    queued = counts.get("queued", 0)
    age = now - oldest if oldest is not None else timedelta(0)
    waiting = f"{queued} queued, the oldest for {_span(age)}"
    if oldest is None:
        checks.append(Check(name="queue age", ok=True, detail="the queue is empty"))
    elif age <= max_age:
        checks.append(Check(name="queue age", ok=True, detail=waiting))
    else:
        checks.append(
            Check(
                name="queue age",
                ok=False,
                detail=f"{waiting} (over {_span(max_age)})",
                fix=f"make sure a worker runs (`kt-jira serve` or `kt-jira worker --config "
                f"{path}`) and see its log; a Jira pause (below) also holds jobs back",
            )
        )
    checks.append(await _pause_check(store, now))
    return checks


async def _pause_check(store: Store, now: datetime) -> Check:
    until = await store.pauses.get_pause("jira")
    if until is None or until <= now:
        return Check(name="jira pause", ok=True, detail="Jira calls are not paused")
    return Check(
        name="jira pause",
        ok=False,
        detail=f"every Jira call is paused until {until.isoformat(timespec='seconds')} "
        f"({_span(until - now)} from now): Jira answered 429 or 503 with Retry-After",
        fix="it lifts by itself; if it keeps coming back, lower jira.max_requests_per_second",
    )


def _span(amount: timedelta) -> str:
    seconds = int(amount.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def redact(check: Check, secrets: list[str]) -> Check:
    """The check with every secret value replaced (servers may echo a request)."""
    detail, fix = check.detail, check.fix
    for secret in secrets:
        if secret:
            detail, fix = detail.replace(secret, "<redacted>"), fix.replace(secret, "<redacted>")
    return replace(check, detail=detail, fix=fix)
