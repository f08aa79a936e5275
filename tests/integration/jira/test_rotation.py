"""A ``file:`` API token or PAT rotated on disk is used by the running client on its next
request: no restart, no reopened client."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from kt_jira.config.secrets import SecretRef
from kt_jira.errors import PermanentError

from .conftest import client_settings, open_site


def rewrite(path: Path, text: str) -> None:
    """Replace a secret file's content with a later mtime, as a rotation job would."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


@pytest.mark.parametrize(("flavor", "key"), [("cloud", "api_token"), ("datacenter", "pat")])
async def test_a_rotated_token_file_is_used_without_a_restart(
    tmp_path: Path, flavor: str, key: str
) -> None:
    """The site takes a new token and refuses the old one; once the file holds the new one,
    the same open client logs in with it."""
    token_file = tmp_path / "jira-token"
    async with open_site(flavor=flavor, search_lag=0.0) as site:
        token_file.write_text(getattr(site.sandbox.settings, key), encoding="utf-8")
        settings = client_settings(site.sandbox, site.url, **{key: SecretRef(f"file:{token_file}")})
        client = type(site.jira)(settings, pause=site.pause)
        async with client as jira:
            await jira.myself()
            site.sandbox.settings = dataclasses.replace(
                site.sandbox.settings, **{key: "rotated-token-2"}
            )
            with pytest.raises(PermanentError) as caught:
                await jira.myself()
            assert caught.value.status == 401
            rewrite(token_file, "rotated-token-2")
            me = await jira.myself()
    assert me.display_name == site.sandbox.settings.display_name
