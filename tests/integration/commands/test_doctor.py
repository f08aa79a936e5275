"""``kt-jira doctor`` over real HTTP against the strict sandboxes and a real database: a site
set up right is all green, and each break of the guide's troubleshooting table (an expired
token, a field off the create screen, a priority that does not exist, a wrong project key, no
webhook) and of the bridge itself (a dead letter, a database not migrated, a Jira pause) is
reported with its fix, never with a secret."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from kt_jira import jobs
from kt_jira.commands.doctor import Check, exit_code, render_line, run_doctor
from kt_jira.commands.doctor_sites import jira_checks
from kt_jira.commands.setup import register_jira_webhook, register_keeptrusts
from kt_jira.config.models import JiraSettings, Rule, Settings
from kt_jira.config.secrets import SecretRef
from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, serve_app
from kt_jira.sandbox.jira.oauth import SandboxOAuth
from tests.integration.reconcile.test_cli import kt_jira
from tests.support.reconcile import WEBHOOK_SECRET, World, WorldFactory

JIRA_SECRET = "doctor-jira-webhook-secret"
CONFIG = Path("kt-jira.yaml")
NAMES = [
    "config",
    "database",
    "migrations",
    "jira auth",
    "jira project",
    "jira issue types and priorities",
    "jira fields",
    "jira other rule settings",
    "jira workflow",
    "jira webhook",
    "keeptrusts auth",
    "keeptrusts webhook",
    "dead letters",
    "queue age",
    "jira pause",
]


async def healthy(make_world: WorldFactory) -> World:
    """A world after ``setup`` registered both webhooks, with two tickets: one still open and
    one in progress, so the workflow can be read from their transitions."""
    world = await make_world(jira_extra={"webhook_secret": SecretRef.literal(JIRA_SECRET)})
    await register_jira_webhook(world.settings, public_url=world.url)
    await register_keeptrusts(world.settings, public_url=world.url)
    world.keeptrusts.add_escalation("esc_doctor_open")
    world.keeptrusts.add_escalation("esc_doctor_busy")
    await world.ticketed("esc_doctor_open", "esc_doctor_busy")
    [busy] = world.tickets("esc_doctor_busy")
    world.jira.transition_issue(busy.key, "In Progress")
    await world.jira.webhooks.drain()
    await world.settle()
    return world


async def doctor(
    world: World, settings: Settings | None = None, **options: Any
) -> dict[str, Check]:
    options.setdefault("public_url", world.url)
    checks = await run_doctor(
        settings or world.settings, config_path=CONFIG, now=world.now, **options
    )
    assert [c.name for c in checks] == NAMES
    for check in checks:
        text = check.detail + check.fix
        assert WEBHOOK_SECRET not in text
        assert JIRA_SECRET not in text
        assert world.jira.settings.api_token not in text
    return {c.name: c for c in checks}


def failed(checks: dict[str, Check]) -> list[str]:
    return [name for name, c in checks.items() if c.status == "failed"]


def with_jira(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"jira": settings.jira.model_copy(update=changes)})


async def test_a_site_set_up_right_is_all_green(make_world: WorldFactory) -> None:
    """After setup, every check passes, each saying what it saw; exit code 0."""
    world = await healthy(make_world)
    checks = await doctor(world)
    assert {c.status for c in checks.values()} == {"passed"}, [
        render_line(c, unicode=False) for c in checks.values() if not c.ok
    ]
    assert exit_code(list(checks.values())) == 0
    assert "logged in at" in checks["jira auth"].detail
    assert checks["jira workflow"].detail.startswith("Open → In Progress → ")
    assert f"{world.url}/webhooks/jira" in checks["jira webhook"].detail
    assert f"{world.url}/webhooks/keeptrusts" in checks["keeptrusts webhook"].detail
    assert checks["migrations"].detail.startswith("schema at head")


async def test_an_expired_token_is_one_failure_with_where_to_make_a_new_one(
    make_world: WorldFactory,
) -> None:
    """Jira answers 401: the login fails with the id.atlassian.com fix, the Jira checks that
    need it are skipped, everything else still runs."""
    world = await healthy(make_world)
    expired = with_jira(world.settings, api_token=SecretRef.literal("expired-token-123"))
    checks = await doctor(world, expired)
    assert failed(checks) == ["jira auth"]
    auth = checks["jira auth"]
    assert "401" in auth.detail
    assert "id.atlassian.com → Security → API tokens" in auth.fix
    assert "jira.api_token" in auth.fix
    assert "expired-token-123" not in auth.detail + auth.fix
    assert all(checks[n].skipped for n in NAMES[4:10])
    assert checks["keeptrusts webhook"].ok
    assert checks["dead letters"].ok
    line = render_line(auth, unicode=True)
    assert line.startswith("✗ jira auth: ")
    assert " — fix: the API token is wrong or expired" in line


async def test_a_wrong_data_center_token_points_at_the_personal_access_token() -> None:
    """On Data Center the 401's fix is a new personal access token in jira.pat."""
    sandbox = JiraSandbox(JiraSandboxSettings(flavor="datacenter"))
    async with serve_app(sandbox.app) as url:
        jira = JiraSettings(url=url, flavor="datacenter", pat=SecretRef.literal("old-pat-42"))
        checks = await jira_checks(Settings(jira=jira), config=CONFIG, public_url=None)
    auth = checks[0]
    assert (auth.name, auth.status) == ("jira auth", "failed")
    assert "Personal Access Tokens" in auth.fix
    assert "jira.pat" in auth.fix
    assert "old-pat-42" not in auth.detail + auth.fix
    assert all(c.skipped for c in checks[1:])


def oauth_jira(url: str, secret: str, **extra: Any) -> JiraSettings:
    """A service account's credential for a Cloud sandbox at ``url`` (its own token endpoint
    and gateway)."""
    oauth = {
        "client_id": "doctor-sa",
        "client_secret": SecretRef.literal(secret),
        "token_url": f"{url}/oauth/token",
        "api_url": url,
    }
    return JiraSettings(url=url, oauth=oauth, **extra)


async def oauth_checks(url: str, secret: str) -> list[Check]:
    """doctor's Jira checks for a service account with ``secret``."""
    settings = Settings(jira=oauth_jira(url, secret))
    return await jira_checks(settings, config=CONFIG, public_url=None)


def failed_login(checks: list[Check]) -> Check:
    """The failed login check, after asserting that every later Jira check was skipped."""
    auth = checks[0]
    assert (auth.name, auth.status) == ("jira auth", "failed")
    assert all(c.skipped for c in checks[1:])
    return auth


async def test_a_refused_oauth_credential_points_at_the_client_secret() -> None:
    """A service account whose secret the token endpoint refuses: the login fails with the
    token endpoint's words and the way to a new credential in jira.oauth.client_secret; a
    right one logs in through the gateway."""
    credential = SandboxOAuth(client_id="doctor-sa", client_secret="right-secret-1")
    sandbox = JiraSandbox(JiraSandboxSettings(oauth=credential))
    async with serve_app(sandbox.app) as url:
        auth = failed_login(await oauth_checks(url, "wrong-secret-2"))
        right = await oauth_checks(url, "right-secret-1")
    assert "invalid_client" in auth.detail
    assert "jira.oauth.client_secret" in auth.fix
    assert "Service accounts" in auth.fix
    assert "wrong-secret-2" not in auth.detail + auth.fix
    assert right[0].ok, right[0]
    assert right[0].detail == f"logged in at {url} as {sandbox.settings.display_name}"
    assert sandbox.oauth.gateway_requests > 0


async def test_a_cloud_oauth_url_without_a_cloud_id_fails_the_login_naming_jira_url() -> None:
    """jira.url that gives no cloud id (not a Cloud site): the client cannot open; the login
    check says so and names jira.url; nothing else is tried."""
    sandbox = JiraSandbox(JiraSandboxSettings(flavor="datacenter"))
    async with serve_app(sandbox.app) as url:
        auth = failed_login(await oauth_checks(url, "any-secret-3"))
    assert "/_edge/tenant_info" in auth.detail
    assert "jira.url" in auth.fix
    assert sandbox.stats.total == 0


async def test_a_field_off_the_create_screen_names_the_field_and_the_screen(
    make_world: WorldFactory,
) -> None:
    """The guide's "wrong field ids": the field check fails naming the screen to add it to."""
    world = await healthy(make_world)
    world.jira.remove_field_from_screen("AIGOV", "Policy Name")
    checks = await doctor(world)
    assert failed(checks) == ["jira fields"]
    fields = checks["jira fields"]
    assert "field 'Policy Name'" in fields.detail
    assert "is not on the AIGOV Task create screen" in fields.detail
    assert "Project settings → Screens" in fields.fix


async def test_a_priority_that_does_not_exist_is_reported_with_its_rule(
    make_world: WorldFactory,
) -> None:
    """The guide's "wrong priority": a rule asks for Urgent, which the project does not offer."""
    world = await healthy(make_world)
    rule = Rule.model_validate({"name": "urgent", "set": {"priority": "Urgent"}})
    checks = await doctor(world, world.settings.model_copy(update={"rules": [rule]}))
    assert failed(checks) == ["jira issue types and priorities"]
    found = checks["jira issue types and priorities"]
    assert "rule 'urgent': priority 'Urgent' is not allowed" in found.detail
    assert "priority scheme" in found.fix


async def test_a_wrong_project_key_fails_the_project_check(make_world: WorldFactory) -> None:
    """A project that does not exist: one failure with the fix; its workflow is not read."""
    world = await healthy(make_world)
    checks = await doctor(world, with_jira(world.settings, project="NOPE"))
    assert failed(checks) == ["jira project"]
    assert "project NOPE does not exist" in checks["jira project"].detail
    assert "jira.project" in checks["jira project"].fix
    assert checks["jira workflow"].skipped


async def test_no_webhook_registered_says_which_setup_command_to_run(
    make_world: WorldFactory,
) -> None:
    """Before setup both webhook checks fail with the command; without a URL they say how to
    pass one. With no ticket yet the workflow cannot be read: skipped, not failed."""
    world = await make_world(jira_extra={"webhook_secret": SecretRef.literal(JIRA_SECRET)})
    checks = await doctor(world)
    assert failed(checks) == ["jira webhook", "keeptrusts webhook"]
    assert checks["jira webhook"].detail == f"none points at {world.url}/webhooks/jira"
    assert checks["jira webhook"].fix == (
        f"kt-jira setup jira-webhook --config {CONFIG} --url {world.url}"
    )
    assert checks["keeptrusts webhook"].fix == (
        f"kt-jira setup keeptrusts --config {CONFIG} --url {world.url}"
    )
    assert checks["jira workflow"].skipped
    assert "after the first ticket" in checks["jira workflow"].detail
    unknown = await doctor(world, public_url=None)
    assert unknown["jira webhook"].skipped
    assert "pass --url https://" in unknown["jira webhook"].detail
    assert exit_code(list(unknown.values())) == 0


async def test_dead_letters_a_long_queue_and_a_pause_are_reported(
    make_world: WorldFactory,
) -> None:
    """A dead job points at jobs list and replay; a job waiting too long, and a Jira pause
    (with its end), fail their checks too."""
    world = await healthy(make_world)
    store, now = world.bridge.store, world.now()
    await store.queue.enqueue(jobs.create_issue("esc_doctor_dead", run_at=now), now=now)
    [job] = await store.queue.claim(
        worker_id="doctor-test", now=now, lease=timedelta(minutes=1), kinds=["create_issue"]
    )
    await store.queue.fail(job.id, worker_id="doctor-test", now=now, error="400 from Jira")
    late = now + timedelta(days=1)
    await store.queue.enqueue(jobs.create_issue("esc_doctor_late", run_at=late), now=now)
    await store.pauses.set_pause("jira", until=now + timedelta(minutes=10), reason="429", now=now)
    checks = await doctor(world, max_queue_age=timedelta(0))
    assert failed(checks) == ["dead letters", "queue age", "jira pause"]
    dead = checks["dead letters"]
    assert dead.detail.startswith("1 job(s) failed permanently")
    assert f"kt-jira jobs list --config {CONFIG} --status dead" in dead.fix
    assert f"kt-jira jobs replay --config {CONFIG}" in dead.fix
    assert "over 0 s" in checks["queue age"].detail
    assert "paused until" in checks["jira pause"].detail


async def test_a_database_not_migrated_says_to_run_migrate(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    """An empty database: migrations fail with `kt-jira migrate`, the queue checks are skipped;
    a database that does not answer fails the database check."""
    world = await healthy(make_world)
    empty = world.settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/new.db"})
    checks = await doctor(world, empty)
    assert failed(checks) == ["migrations"]
    assert checks["migrations"].fix == f"kt-jira migrate --config {CONFIG}"
    assert all(checks[n].skipped for n in ("dead letters", "queue age", "jira pause"))
    gone = "postgresql+psycopg://doctor:hunter2@127.0.0.1:1/none"
    checks = await doctor(world, world.settings.model_copy(update={"database_url": gone}))
    assert failed(checks) == ["database"]
    assert "hunter2" not in checks["database"].detail
    assert checks["migrations"].skipped


async def test_a_database_migrated_by_a_newer_version_says_to_upgrade(
    make_world: WorldFactory,
) -> None:
    """A schema this version does not know: the migrations check fails with "upgrade kt-jira",
    not with "run migrate" (which would refuse, and could not help)."""
    world = await healthy(make_world)
    async with world.bridge.store.db.write() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    checks = await doctor(world)
    assert failed(checks) == ["migrations"]
    assert "newer than this kt-jira" in checks["migrations"].detail
    assert checks["migrations"].fix.startswith("upgrade kt-jira")


async def test_the_command_line_exit_codes_and_json(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    """The real CLI in a subprocess: 0 and a JSON list when all pass, 1 with the failed check
    on a wrong token, 2 for a config that does not load; no secret printed."""
    world = await healthy(make_world)
    settings = world.settings
    config = tmp_path / "kt-jira.yaml"
    config.write_text(
        f"database_url: {settings.database_url}\n"
        f"server: {{public_url: '{world.url}'}}\n"
        f"keeptrusts: {{api_url: '{settings.keeptrusts.api_url}', api_token: env:KT_TEST_KT,\n"
        "             webhook: {secrets: [env:KT_TEST_SECRET]}}\n"
        f"jira: {{url: '{settings.jira.url}', email: {settings.jira.email},"
        " api_token: env:KT_TEST_JIRA, webhook_secret: env:KT_TEST_JIRA_SECRET}\n",
        encoding="utf-8",
    )
    env = {
        "KT_TEST_KT": world.keeptrusts.settings.api_token,
        "KT_TEST_JIRA": world.jira.settings.api_token,
        "KT_TEST_SECRET": WEBHOOK_SECRET,
        "KT_TEST_JIRA_SECRET": JIRA_SECRET,
    }
    code, text = await kt_jira("doctor", "--config", str(config), "--json", env=env)
    assert code == 0, text
    listed = json.loads(text)
    assert [c["name"] for c in listed] == NAMES
    assert {c["status"] for c in listed} == {"passed"}, text

    code, text = await kt_jira(
        "doctor", "--config", str(config), env=env | {"KT_TEST_JIRA": "expired-in-env"}
    )
    assert code == 1, text
    [line] = [line for line in text.splitlines() if line.startswith("[FAIL]")]
    assert line.startswith("[FAIL] jira auth: ")
    assert "-- fix: the API token is wrong or expired" in line
    assert "[ok] dead letters: none" in text
    for secret in (*env.values(), "expired-in-env"):
        assert secret not in text

    config.write_text("jira: {projekt: AIGOV}\n", encoding="utf-8")
    code, text = await kt_jira("doctor", "--config", str(config), "--json", env=env)
    assert code == 2, text
    [check] = json.loads(text)
    assert (check["name"], check["status"]) == ("config", "failed")
    assert "projekt" in check["detail"]
