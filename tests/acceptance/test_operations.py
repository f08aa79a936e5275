"""Acceptance: what an operator sees from the ``kt-jira`` command line: config errors that name
the key and line, a refusal to run without webhook secrets, secrets never printed, and a dead
letter that says what to fix and replays into exactly one issue once it is fixed."""

from __future__ import annotations

import subprocess

import pytest

from kt_jira.sandbox import KeeptrustsSender, escalation_payload
from tests.acceptance.conftest import World
from tests.acceptance.harness import FIELD_NAMES, PROJECT, eventually, kt_jira_executable

pytestmark = pytest.mark.slow


def serve_briefly(config: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``kt-jira serve`` that is expected to refuse to start (killed if it starts anyway)."""
    try:
        return subprocess.run(
            [kt_jira_executable(), "serve", "--config", config],
            env=env,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"kt-jira serve started with {config}:\n{exc.stderr!r}") from None


async def test_bad_config_is_refused_and_secrets_are_never_printed(world: World) -> None:
    """An unknown key stops ``serve`` with the key and its line; no webhook secret stops it with
    a message naming keeptrusts.webhook.secrets; ``check-config`` passes a good file without
    printing any secret value."""
    site = world.jira()
    good, _ = world.config(site, name="good.yaml")
    lines = good.read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == f"project: {PROJECT}")
    lines.insert(at + 1, "  projekt: TYPO")
    typo = world.tmp_path / "typo.yaml"
    typo.write_text("\n".join(lines) + "\n", "utf-8")

    done = serve_briefly(str(typo), world.env)
    assert done.returncode != 0
    assert "jira.projekt" in done.stderr, done.stderr
    assert f"line {at + 2}" in done.stderr, done.stderr

    unsigned, _ = world.config(
        site, {"keeptrusts": {"webhook": {"secrets": []}}}, name="no-secrets.yaml"
    )
    done = serve_briefly(str(unsigned), world.env)
    assert done.returncode != 0
    assert "keeptrusts.webhook.secrets" in done.stderr, done.stderr

    checked = world.cli("check-config", "--config", str(good))
    assert checked.code == 0, checked.text
    for value in world.secrets.values:
        assert value not in checked.text, "check-config printed a secret value"
    for value in world.secrets.values:
        assert value not in done.stdout + done.stderr


async def test_field_missing_from_create_screen_dead_letters_then_replays_once(
    world: World,
) -> None:
    """With Policy Name off the create screen the job is dead-lettered with a message naming
    the field and the screen and no issue is created; once the field is back, ``jobs replay``
    creates the issue exactly once."""
    site = world.jira()
    removed = site.screen_field_ids(FIELD_NAMES["policy_name"])
    site.sandbox.remove_field_from_screen(PROJECT, FIELD_NAMES["policy_name"])
    bridge = await world.bridge(site)
    async with KeeptrustsSender(
        bridge.webhook_url, secret=world.secrets.webhook, base_delay=0.05
    ) as sender:
        result = await sender.send(escalation_payload("esc_screen_gap", action="escalate"))
    assert result.status == 202, result.attempts

    def dead() -> list[list[str]]:
        found = [row for row in world.jobs(bridge, "dead") if "esc_screen_gap" in row[2]]
        assert found, "the job is not in the dead letter yet"
        return found

    (row,) = await eventually(dead, timeout=30, interval=0.5)
    error = " ".join(row[5:])
    assert "Policy Name" in error, row
    assert f"{PROJECT} Task create screen" in error, row
    assert site.issues() == []

    for fid in sorted(removed):
        site.sandbox.add_field_to_screen(PROJECT, fid)
    replay = world.cli("jobs", "replay", "--config", str(bridge.config), bridge=bridge)
    assert replay.code == 0, replay.text
    assert "requeued 1 job" in replay.stdout, replay.stdout

    def one_issue() -> None:
        assert len(site.issues_for("esc_screen_gap")) == 1

    await eventually(one_issue, timeout=30)
    await world.idle(bridge)
    assert len(site.issues_for("esc_screen_gap")) == 1
    assert len(site.issues()) == 1
    assert world.jobs(bridge, "dead") == []
    assert site.sandbox.contract_violations == []
