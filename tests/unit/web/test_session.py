"""Admin sessions without a server: the cookie is signed over its expiry under a key from the
admin token, and the ``Secure`` and same-origin decisions read the request as documented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.requests import Request

from kt_jira.web.auth import same_origin, secure_cookie
from kt_jira.web.session import SESSION_LIFETIME, SessionKeys, csrf_matches

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_a_session_reads_back_until_it_expires() -> None:
    """An issued cookie reads back as the same session until its 12-hour expiry, not after."""
    keys = SessionKeys("token-a" * 4)
    value, session = keys.issue(now=NOW)
    assert keys.read(value, now=NOW + SESSION_LIFETIME - timedelta(seconds=1)) == session
    assert keys.read(value, now=NOW + SESSION_LIFETIME) is None
    assert session.expires == NOW + SESSION_LIFETIME


def test_rotating_the_token_ends_every_session() -> None:
    """A cookie signed under one admin token is worthless under the next."""
    value, _ = SessionKeys("token-a" * 4).issue(now=NOW)
    assert SessionKeys("token-b" * 4).read(value, now=NOW) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: v.replace("v1.", "v2.", 1),
        lambda v: (
            v.split(".")[0] + "." + str(int(v.split(".")[1]) + 3600) + "." + v.split(".", 2)[2]
        ),
        lambda v: v[:-1] + ("0" if v[-1] != "0" else "1"),
        lambda v: v.rsplit(".", 1)[0],
        lambda v: "",
    ],
    ids=["version", "longer-expiry", "mac", "no-mac", "empty"],
)
def test_a_tampered_cookie_is_no_session(tamper: object) -> None:
    """Changing any part of the cookie (a later expiry included) makes it invalid."""
    keys = SessionKeys("token-a" * 4)
    value, _ = keys.issue(now=NOW)
    assert callable(tamper)
    assert keys.read(tamper(value), now=NOW) is None


def test_each_session_has_its_own_csrf_token() -> None:
    """Two sessions get different CSRF tokens, and only a session's own token matches it."""
    keys = SessionKeys("token-a" * 4)
    _, one = keys.issue(now=NOW)
    _, two = keys.issue(now=NOW)
    assert one.csrf != two.csrf
    assert csrf_matches(one.csrf, one.csrf)
    assert not csrf_matches(one.csrf, two.csrf)
    assert not csrf_matches(one.csrf, None)
    assert one.who.startswith("session:")
    assert one.nonce not in one.who
    assert "token" not in repr(keys)
    assert one.csrf not in repr(one)


def _request(
    *, scheme: str = "http", host: str = "127.0.0.1:8080", client: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
) -> Request:  # fmt: skip
    raw = [(b"host", host.encode())] + [
        (k.lower().encode(), v.encode()) for k, v in (headers or {}).items()
    ]
    scope = {
        "type": "http", "method": "POST", "scheme": scheme, "path": "/", "query_string": b"",
        "headers": raw, "client": (client, 50000), "server": ("127.0.0.1", 8080),
    }  # fmt: skip
    return Request(scope)


def test_the_cookie_is_secure_except_plain_http_on_loopback() -> None:
    """Secure on https, behind a TLS proxy and for any remote client or name; not on plain
    http from loopback to a loopback name (the demo)."""
    assert not secure_cookie(_request())
    assert not secure_cookie(_request(host="localhost:8080"))
    assert not secure_cookie(_request(host="[::1]:8080", client="::1"))
    assert secure_cookie(_request(scheme="https"))
    assert secure_cookie(_request(headers={"X-Forwarded-Proto": "https"}))
    assert secure_cookie(_request(client="10.0.0.7"))
    assert secure_cookie(_request(host="kt-jira.example.com"))


def test_same_origin_reads_origin_then_referer() -> None:
    """Origin decides when present; else Referer; neither, or ``null``, is not same-origin."""
    host = "kt.example.com"
    assert same_origin(_request(host=host, headers={"Origin": "https://kt.example.com"}))
    assert not same_origin(_request(host=host, headers={"Origin": "https://evil.example"}))
    assert not same_origin(
        _request(host=host, headers={"Origin": "null", "Referer": "https://kt.example.com/"})
    )
    assert same_origin(_request(host=host, headers={"Referer": "https://kt.example.com/x"}))
    assert not same_origin(_request(host=host))
