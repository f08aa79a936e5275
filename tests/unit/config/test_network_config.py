"""The network and service-account keys of the config: ``jira.oauth`` replaces the other Jira
credentials, a proxy URL never shows its credentials, and a CA bundle must be a PEM file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kt_jira.config.loader import iter_secrets, load_settings, settings_from_dict
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import ConfigError
from tests.support.tls import private_ca

OAUTH = "  oauth:\n    client_id: kt-jira-sa\n    client_secret: env:JIRA_OAUTH_SECRET\n"


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "kt-jira.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environ={})


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (
            "  email: bot@example.com\n  api_token: env:JIRA_API_TOKEN\n",
            "jira.email and jira.api_token",
        ),
        ("  flavor: datacenter\n  pat: env:JIRA_PAT\n", "jira.pat"),
    ],
)
def test_oauth_beside_another_credential_is_refused_naming_both(
    tmp_path: Path, extra: str, named: str
) -> None:
    """jira.oauth and email/api_token (or pat) at once: one error that names the keys."""
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, "jira:\n" + extra + OAUTH)
    assert f"jira.oauth replaces {named}" in str(caught.value)
    assert "line 2" in str(caught.value)


def test_oauth_keys_load_with_their_defaults_and_references() -> None:
    """client_id may be text or a reference; the secret is a reference labelled with its key;
    scopes are single words; the Cloud gateway override is refused on Data Center."""
    settings = settings_from_dict(
        {"jira": {"oauth": {"client_id": "env:JIRA_OAUTH_ID", "client_secret": "env:S"}}}
    )
    oauth = settings.jira.oauth
    assert oauth is not None
    assert isinstance(oauth.client_id, SecretRef)
    assert (oauth.token_url, oauth.api_url, oauth.scopes) == (None, None, [])
    assert ("jira.oauth.client_secret", oauth.client_secret) in iter_secrets(settings)
    with pytest.raises(ConfigError, match=r"is not a scope"):
        settings_from_dict(
            {"jira": {"oauth": {"client_id": "a", "client_secret": "env:S", "scopes": ["a b"]}}}
        )
    oauth_dc = {"client_id": "a", "client_secret": "env:S", "api_url": "https://gw.example"}
    with pytest.raises(ConfigError, match=r"api_url is the Cloud API gateway"):
        settings_from_dict({"jira": {"flavor": "datacenter", "oauth": oauth_dc}})
    bad_url = {"client_id": "a", "client_secret": "env:S", "token_url": "auth.example"}
    with pytest.raises(ConfigError, match=r"jira.oauth.token_url: .*not an http\(s\) URL"):
        settings_from_dict({"jira": {"oauth": bad_url}})


def test_a_proxy_url_never_shows_its_password() -> None:
    """The password is in no repr, no str and no dump; the URL itself is kept to connect."""
    settings = settings_from_dict({"jira": {"proxy": "http://kt:pr0xy-pass@proxy.corp:3128"}})
    proxy = settings.jira.proxy
    assert proxy is not None
    assert proxy.reveal() == "http://kt:pr0xy-pass@proxy.corp:3128"
    shown = repr(settings) + str(proxy) + settings.model_dump_json()
    assert "pr0xy-pass" not in shown
    assert "http://***@proxy.corp:3128" in shown


def test_a_bad_proxy_url_is_refused_without_echoing_it() -> None:
    """A socks URL or one with a path is refused, naming the key, never printing the value."""
    for value in ("socks5://kt:s3cret-value@proxy:1080", "http://kt:s3cret-value@proxy/path"):
        with pytest.raises(ConfigError) as caught:
            settings_from_dict({"keeptrusts": {"proxy": value}})
        assert "keeptrusts.proxy" in str(caught.value)
        assert "s3cret-value" not in str(caught.value)


def test_a_proxy_reference_is_read_and_checked_when_used(tmp_path: Path) -> None:
    """file: keeps credentials out of the config; the URL is read on use (again after the file
    changes), and a bad one fails naming the key, not echoing the value."""
    source = tmp_path / "proxy-url"
    source.write_text("http://u:from-file-pw@proxy:8080\n", encoding="utf-8")
    settings = settings_from_dict({"sla": {"notify": {"proxy": f"file:{source}"}}})
    proxy = settings.sla.notify.proxy
    assert proxy is not None
    assert repr(proxy) == f"ProxyUrl('file:{source}')"
    assert proxy.reveal() == "http://u:from-file-pw@proxy:8080"
    before = source.stat().st_mtime_ns
    source.write_text("ftp://u:from-file-pw@proxy:8080\n", encoding="utf-8")
    os.utime(source, ns=(before + 1_000_000_000, before + 1_000_000_000))
    with pytest.raises(ConfigError) as caught:
        proxy.reveal()
    assert str(caught.value).startswith(f"sla.notify.proxy: the proxy URL from file:{source}")
    assert "from-file-pw" not in str(caught.value)


def test_a_ca_bundle_must_be_a_pem_file(tmp_path: Path) -> None:
    """A missing file or one with no certificate fails at load with the key and line; a real
    CA certificate loads."""
    with pytest.raises(ConfigError, match=r"jira\.ca_bundle: .*is not a file.*line 2"):
        _load(tmp_path, f"jira:\n  ca_bundle: {tmp_path / 'missing.pem'}\n")
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("just text\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"keeptrusts\.ca_bundle: .*holds no PEM certificate"):
        settings_from_dict({"keeptrusts": {"ca_bundle": str(not_pem)}})
    ca = private_ca(tmp_path)
    settings = settings_from_dict({"jira": {"ca_bundle": str(ca.ca_file)}})
    assert settings.jira.ca_bundle == ca.ca_file
