"""Loading the YAML config: strictness, line numbers, secrets, environment overrides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kt_jira.config.loader import load_settings
from kt_jira.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kt-jira.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads() -> None:
    """The example config shipped in examples/ loads and keeps DESIGN.md's key paths."""
    settings = load_settings(ROOT / "examples" / "kt-jira.yaml", environ={})
    assert settings.jira.project == "AIGOV"
    assert settings.jira.fields.console_url == "Console URL"
    assert settings.keeptrusts.webhook.secrets[0].reference == "env:KEEPTRUSTS_WEBHOOK_SECRET"
    assert settings.rules[0].name == "content-safety-block"


def test_unknown_key_names_key_file_and_line(tmp_path: Path) -> None:
    """An unknown key fails with its dotted path, the file and the line it is on."""
    path = _write(tmp_path, "jira:\n  url: https://x.atlassian.net\n  projekt: AIGOV\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert "jira.projekt: unknown key" in message
    assert f"{path}, line 3" in message


def test_bad_value_names_line(tmp_path: Path) -> None:
    """A value of the wrong type fails with the key and its line."""
    path = _write(tmp_path, "server:\n  host: 0.0.0.0\n  port: lots\n")
    with pytest.raises(ConfigError, match=r"server\.port: .*line 3"):
        load_settings(path, environ={})


def test_env_override(tmp_path: Path) -> None:
    """KT_JIRA__SECTION__KEY overrides the file, with YAML typing of the value."""
    path = _write(tmp_path, "jira: {project: AIGOV}\nserver: {port: 8080}\n")
    settings = load_settings(
        path, environ={"KT_JIRA__JIRA__PROJECT": "SEC", "KT_JIRA__SERVER__PORT": "9000"}
    )
    assert (settings.jira.project, settings.server.port) == ("SEC", 9000)


def test_secret_reference_resolves_and_never_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """env: secrets resolve when used, and neither repr nor errors show the value."""
    monkeypatch.setenv("KT_TEST_TOKEN", "hunter2-secret")
    path = _write(tmp_path, "jira: {api_token: env:KT_TEST_TOKEN}\n")
    settings = load_settings(path, environ={})
    assert settings.jira.api_token is not None
    assert settings.jira.api_token.reveal() == "hunter2-secret"
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in settings.model_dump_json()


def test_missing_secret_says_what_to_set(tmp_path: Path) -> None:
    """A reference to an unset variable fails on use, naming the key and the variable."""
    path = _write(tmp_path, "jira: {api_token: env:KT_SURELY_UNSET_VAR}\n")
    settings = load_settings(path, environ={})
    assert settings.jira.api_token is not None
    with pytest.raises(
        ConfigError, match=r"jira\.api_token: environment variable KT_SURELY_UNSET_VAR"
    ):
        settings.jira.api_token.reveal()


def test_file_secret(tmp_path: Path) -> None:
    """file: secrets are read from the file, stripped of the trailing newline."""
    (tmp_path / "token").write_text("abc\n")
    path = _write(tmp_path, f"jira: {{api_token: 'file:{tmp_path / 'token'}'}}\n")
    settings = load_settings(path, environ={})
    assert settings.jira.api_token is not None
    assert settings.jira.api_token.reveal() == "abc"


def test_invalid_yaml_is_a_config_error(tmp_path: Path) -> None:
    """Broken YAML fails with ConfigError naming the file."""
    path = _write(tmp_path, "jira: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(path, environ={})


def test_readme_example_config_loads(tmp_path: Path) -> None:
    """The YAML example in README.md loads, so the documentation cannot drift from the code."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = (
        readme.split("This is the example the test suite loads", 1)[1]
        .split("```yaml\n", 1)[1]
        .split("```", 1)[0]
    )
    settings = load_settings(_write(tmp_path, block), environ={})
    assert settings.rules == []
    assert settings.jira.fields.escalation_id == "Escalation ID"


@pytest.mark.parametrize(
    ("value", "hint"),
    [("Env:JIRA_TOKEN", "did you mean env:?"), ("hunter2-plain", "inline:VALUE")],
)
def test_an_unknown_secret_scheme_is_refused_naming_the_key(
    tmp_path: Path, value: str, hint: str
) -> None:
    """A typo like ``Env:`` (or a bare value) is refused at load, never sent to Jira as a token;
    the error names the key and never echoes the value."""
    path = _write(tmp_path, f"jira: {{api_token: '{value}'}}\n")
    with pytest.raises(
        ConfigError, match=r"jira\.api_token: .*is not a secret reference"
    ) as caught:
        load_settings(path, environ={})
    assert hint in str(caught.value)
    assert value not in str(caught.value)


def test_inline_secrets_need_their_prefix(tmp_path: Path) -> None:
    path = _write(tmp_path, "jira: {api_token: 'inline:abc:def'}\n")
    token = load_settings(path, environ={}).jira.api_token
    assert token is not None
    assert token.reveal() == "abc:def"
    assert token.reference == "<inline secret>"


def test_a_file_secret_is_read_again_when_the_file_changes(tmp_path: Path) -> None:
    """Rotating a mounted secret file needs no restart."""
    secret = tmp_path / "token"
    secret.write_text("first\n")
    path = _write(tmp_path, f"jira: {{api_token: 'file:{secret}'}}\n")
    token = load_settings(path, environ={}).jira.api_token
    assert token is not None
    assert token.reveal() == "first"
    secret.write_text("second\n")
    os.utime(secret, ns=(secret.stat().st_atime_ns, secret.stat().st_mtime_ns + 1_000_000))
    assert token.reveal() == "second"


@pytest.mark.parametrize(
    ("url", "names"),
    [
        ("postgresql+psycopg://kt:pw-in-url@db/kt", "database_url already carries a password"),
        ("sqlite:///kt-jira.db", "database_url is SQLite"),
    ],
)
def test_database_password_beside_a_url_that_cannot_take_it_is_refused(
    tmp_path: Path, url: str, names: str
) -> None:
    """database_password with a URL that has its own password (or is SQLite) fails at load,
    naming both keys and never echoing the URL's password."""
    path = _write(tmp_path, f"database_url: '{url}'\ndatabase_password: env:KT_DB_PASSWORD\n")
    with pytest.raises(ConfigError, match=r"database_password: ") as caught:
        load_settings(path, environ={})
    assert names in str(caught.value)
    assert "pw-in-url" not in str(caught.value)


def test_database_password_is_a_secret_reference(tmp_path: Path) -> None:
    """database_password beside a URL without one loads as a reference, resolved on use."""
    path = _write(
        tmp_path,
        "database_url: postgresql+psycopg://kt@db/kt\ndatabase_password: env:KT_DB_PASSWORD\n",
    )
    password = load_settings(path, environ={}).database_password
    assert password is not None
    assert (password.reference, password.where) == ("env:KT_DB_PASSWORD", "database_password")
