"""The deployment files in deploy/ mean what they say: the production example config loads and
would start, the systemd unit and the image run commands that exist, the runtime lock is the dev
lock's runtime half, and the alert rules name metrics the bridge exports."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import typer
import yaml
from pydantic import BaseModel

from kt_jira.cli import app
from kt_jira.commands.check_config import offline_problems
from kt_jira.config.loader import load_settings
from kt_jira.config.models import Settings
from kt_jira.config.secrets import SecretRef
from kt_jira.metrics import Metrics
from kt_jira.service import check_startup

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
EXAMPLE = DEPLOY / "kt-jira.example.yaml"
UNIT = DEPLOY / "kt-jira.service"
DOCKERFILE = DEPLOY / "Dockerfile"
RULES = DEPLOY / "kt-jira.rules.yml"
PIN = re.compile(r"^([a-z0-9][a-z0-9._-]*)==(\S+)((?:\s*\\\n\s+--hash=\S+)+)", re.MULTILINE)


def _secrets(settings: Settings) -> list[SecretRef]:
    found: list[SecretRef] = []

    def walk(value: object) -> None:
        if isinstance(value, SecretRef):
            found.append(value)
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(settings)
    return found


def test_production_example_loads_strictly_and_would_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """With every env: variable it names set, the example loads, passes the offline checks and
    the start-up checks without a warning, and every secret in it resolves."""
    names = re.findall(r"env:([A-Z][A-Z0-9_]*)", EXAMPLE.read_text(encoding="utf-8"))
    assert "JIRA_API_TOKEN" in names
    for name in names:
        monkeypatch.setenv(name, f"dummy-{name.lower()}-0123456789abcdef")
    settings = load_settings(EXAMPLE, environ={})
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert offline_problems(settings) == []
    assert check_startup(settings) == []
    secrets = _secrets(settings)
    assert secrets, "the example holds secret references"
    assert all(not s.inline for s in secrets)
    assert all(s.reveal().startswith("dummy-") for s in secrets)


def _runs(args: list[str]) -> None:
    """``kt-jira ARGS`` parses: the command exists and takes those options."""
    group = typer.main.get_command(app)
    name, *rest = args
    command = group.get_command(None, name)  # type: ignore[attr-defined]
    assert command is not None, f"kt-jira has no command {name!r}"
    command.make_context(name, list(rest))


def test_systemd_unit_runs_an_existing_command() -> None:
    """Every Exec line of the unit is ``kt-jira`` with a command and options it has, the config
    at the path the docs name, and the unit has the hardening the docs promise."""
    text = UNIT.read_text(encoding="utf-8")
    execs = re.findall(r"^Exec\w+=(\S+) (.+)$", text, re.MULTILINE)
    assert execs
    for binary, args in execs:
        assert binary == "/opt/kt-jira/bin/kt-jira"
        _runs(args.split())
    assert "serve --config /etc/kt-jira/kt-jira.yaml" in text
    for setting in (
        "User=kt-jira",
        "EnvironmentFile=/etc/kt-jira/kt-jira.env",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/kt-jira",
    ):
        assert re.search(rf"^{re.escape(setting)}$", text, re.MULTILINE), setting


def test_image_runs_an_existing_command_and_checks_healthz() -> None:
    """The Dockerfile's ENTRYPOINT + CMD is ``kt-jira serve --config ...``, it exposes the
    default port and its HEALTHCHECK asks /healthz on it; .dockerignore lets in what it copies."""
    text = DOCKERFILE.read_text(encoding="utf-8")

    def instruction(name: str) -> list[str]:
        [found] = re.findall(rf"^{name} (\[.*\])$", text, re.MULTILINE)
        value: list[str] = json.loads(found)
        return value

    entry, cmd = instruction("ENTRYPOINT"), instruction("CMD")
    assert entry == ["kt-jira"]
    assert cmd == ["serve", "--config", "/etc/kt-jira/kt-jira.yaml"]
    _runs(cmd)
    port = Settings().server.port
    assert re.search(rf"^EXPOSE {port}$", text, re.MULTILINE)
    assert f"http://127.0.0.1:{port}/healthz" in text
    assert re.search(r"^USER kt-jira$", text, re.MULTILINE)
    assert "--require-hashes -r requirements-runtime.lock" in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE)
    for source in " ".join(copied).split():
        assert f"!{source.rstrip('/')}" in {line.rstrip("/") for line in ignored}, source


def _pins(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    text = path.read_text(encoding="utf-8")
    return {
        name: (version, frozenset(re.findall(r"--hash=(\S+)", hashes)))
        for name, version, hashes in PIN.findall(text)
    }


def test_runtime_lock_is_the_dev_locks_runtime_half() -> None:
    """requirements-runtime.lock pins every runtime dependency, each at the dev lock's version
    and hashes (so production runs what the tests ran), and no dev-only tool."""
    runtime, dev = _pins(ROOT / "requirements-runtime.lock"), _pins(ROOT / "requirements.lock")
    assert runtime
    assert {name: pin for name, pin in runtime.items() if dev.get(name) != pin} == {}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {
        re.split(r"[\[<>=~! ]", dep, maxsplit=1)[0].lower() for dep in project["dependencies"]
    }
    assert wanted - set(runtime) == set()
    assert not {"pytest", "mypy", "ruff", "hypothesis"} & set(runtime)
    header = (ROOT / "requirements-runtime.lock").read_text(encoding="utf-8").splitlines()[1]
    assert "uv pip compile pyproject.toml --generate-hashes --python-version 3.11" in header


def _series() -> set[str]:
    """Every series name the bridge's registry can export."""
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "gauge": ("",),
        "info": ("_info",),
    }
    return {
        family.name + suffix
        for family in Metrics().registry.collect()
        for suffix in suffixes.get(family.type, ("",))
    }


def test_alert_rules_name_metrics_and_labels_the_bridge_exports() -> None:
    """Each kt_jira_* series in deploy/kt-jira.rules.yml exists, each label value the rules
    select on is one the code uses, and docs/operations.md shows the same file."""
    text = RULES.read_text(encoding="utf-8")
    rules = yaml.safe_load(text)["groups"][0]["rules"]
    known = _series()
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py"))
    for rule in rules:
        expr = rule["expr"]
        for name in re.findall(r"\bkt_jira_\w+", expr):
            assert name in known, f"{rule['alert']}: {name} is not exported"
        for value in re.findall(r'(?:outcome|status)="(\w+)"', expr):
            assert f'"{value}"' in source, f"{rule['alert']}: no code uses {value!r}"
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert text in operations
