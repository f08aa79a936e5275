"""The admin gate over real HTTP: disabled without a token, Bearer and login, the session
cookie's attributes, CSRF and same-origin checks, and no admin route left ungated."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable

import httpx
import pytest
from starlette.routing import Route
from structlog.testing import capture_logs

from kt_jira.web import session as session_module
from kt_jira.web.auth import FAILURE_DELAY
from tests.support.intake import Harness

from .conftest import ADMIN_TOKEN, AdminHarness


def _cookie_attributes(response: httpx.Response) -> dict[str, str]:
    [header] = response.headers.get_list("set-cookie")
    name_value, *attributes = (part.strip() for part in header.split(";"))
    parsed = {"name": name_value.partition("=")[0], "value": name_value.partition("=")[2]}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        parsed[key.lower()] = value
    return parsed


async def test_without_an_admin_token_admin_paths_are_404_and_say_how(harness: Harness) -> None:
    """No server.admin_token: the dashboard, its login and the API answer 404 with how to
    enable them, and the first hit logs it once."""
    bearer = {"Authorization": "Bearer anything"}
    with capture_logs() as logs:
        responses = [
            await harness.client.get(f"{harness.url}/dashboard"),
            await harness.client.get(f"{harness.url}/dashboard/login"),
            await harness.client.post(f"{harness.url}/dashboard/login", data={"token": "x"}),
            await harness.client.get(f"{harness.url}/api/v1/jobs", headers=bearer),
        ]
    assert [r.status_code for r in responses] == [404] * 4
    assert all(
        "server.admin_token: env:KT_JIRA_ADMIN_TOKEN" in r.json()["detail"] for r in responses
    )
    disabled = [entry for entry in logs if entry["event"] == "admin.disabled"]
    assert len(disabled) == 1
    assert "env:KT_JIRA_ADMIN_TOKEN" in disabled[0]["message"]


async def test_missing_or_wrong_bearer_is_401(admin: AdminHarness) -> None:
    """No credentials, a wrong token or another scheme answer 401 with a Bearer challenge."""
    url = f"{admin.url}/api/v1/jobs"
    client = admin.harness.client
    missing = await client.get(url)
    wrong = await client.get(url, headers={"Authorization": "Bearer not-the-token"})
    basic = await client.get(url, headers={"Authorization": f"Basic {ADMIN_TOKEN}"})
    assert [r.status_code for r in (missing, wrong, basic)] == [401, 401, 401]
    assert all(r.headers["www-authenticate"].startswith("Bearer") for r in (missing, wrong))
    assert "Authorization: Bearer" in missing.json()["detail"]
    assert (await admin.api("GET", "/jobs")).status_code == 200


async def test_the_token_is_compared_in_constant_time(
    admin: AdminHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Bearer token is checked with hmac.compare_digest on equal-length digests, so
    neither its contents nor its length leak through timing."""
    seen: list[tuple[bytes, bytes]] = []
    real: Callable[[bytes, bytes], bool] = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(session_module.hmac, "compare_digest", spy)
    assert (await admin.api("GET", "/jobs", headers={"Authorization": "Bearer x"})).status_code
    assert seen
    assert all(isinstance(a, bytes) and len(a) == len(b) == 32 for a, b in seen)


async def test_login_page_has_a_labelled_password_field(admin: AdminHarness) -> None:
    """GET /dashboard/login is a form with a labelled password field, never cached or framed."""
    page = await (await admin.client()).get("/dashboard/login")
    assert page.status_code == 200
    assert '<label for="token">' in page.text
    assert '<input id="token" name="token" type="password"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_login_sets_a_strict_http_only_expiring_cookie(admin: AdminHarness) -> None:
    """The right token sets a signed HttpOnly, SameSite=Strict, Path=/ cookie for 12 hours,
    without Secure on plain http to loopback and with it behind TLS."""
    client = await admin.client()
    origin = {"Origin": admin.url}
    local = await client.post("/dashboard/login", data={"token": ADMIN_TOKEN}, headers=origin)
    assert (local.status_code, local.headers["location"]) == (303, "/dashboard")
    cookie = _cookie_attributes(local)
    assert cookie["name"] == "kt_jira_session"
    assert cookie["value"].startswith("v1.")
    assert (cookie["path"], cookie["samesite"], cookie["max-age"]) == ("/", "strict", "43200")
    assert "httponly" in cookie
    assert "secure" not in cookie
    behind_tls = await client.post(
        "/dashboard/login",
        data={"token": ADMIN_TOKEN},
        headers={**origin, "X-Forwarded-Proto": "https"},
    )
    assert "secure" in _cookie_attributes(behind_tls)


async def test_a_wrong_login_waits_and_shows_the_form_again(admin: AdminHarness) -> None:
    """A wrong token answers 401 with the form and no cookie, after a delay; concurrent
    guesses wait in turn."""
    client = await admin.client()
    started = time.monotonic()
    guesses = await asyncio.gather(
        *[
            client.post(
                "/dashboard/login", data={"token": f"guess-{n}"}, headers={"Origin": admin.url}
            )
            for n in range(3)
        ]
    )
    assert time.monotonic() - started >= 3 * FAILURE_DELAY * 0.9
    for wrong in guesses:
        assert wrong.status_code == 401
        assert 'type="password"' in wrong.text
        assert "That is not the admin token" in wrong.text
        assert "set-cookie" not in wrong.headers
    assert (await client.get("/dashboard")).status_code == 303


async def test_a_session_opens_the_dashboard_and_the_api(admin: AdminHarness) -> None:
    """Logged in, the dashboard page and the API answer; logged out, the dashboard sends the
    browser to the login form."""
    anonymous = await (await admin.client()).get("/dashboard")
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/dashboard/login")
    browser = await admin.browser()
    page = await browser.client.get("/dashboard")
    assert page.status_code == 200
    assert "<h1>kt-jira</h1>" in page.text
    assert '<main id="content"' in page.text
    assert (await browser.client.get("/api/v1/jobs")).status_code == 200


async def test_a_session_post_needs_its_csrf_token(admin: AdminHarness) -> None:
    """With the cookie, a POST without the CSRF token, or with a wrong one, is 403; the header
    or the form field lets it through."""
    browser = await admin.browser()
    path = "/api/v1/dead-letters/replay"
    origin = {"Origin": admin.url}
    missing = await browser.client.post(path, headers=origin)
    wrong = await browser.client.post(path, headers={**origin, "X-CSRF-Token": "x" + browser.csrf})
    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert "CSRF" in missing.json()["detail"]
    assert (await browser.post(path)).status_code == 200
    form = await browser.client.post(path, data={"csrf_token": browser.csrf}, headers=origin)
    assert form.status_code == 200


async def test_cross_origin_posts_are_refused(admin: AdminHarness) -> None:
    """A session POST from another origin, or with neither Origin nor Referer, is 403 even with
    the right CSRF token; a same-origin Referer is enough; a cross-origin login is refused."""
    browser = await admin.browser()
    path = "/api/v1/dead-letters/replay"
    token = {"X-CSRF-Token": browser.csrf}
    evil = await browser.client.post(path, headers={**token, "Origin": "http://evil.example"})
    null = await browser.client.post(path, headers={**token, "Origin": "null"})
    bare = await browser.client.post(path, headers=token)
    referred = await browser.client.post(
        path, headers={**token, "Referer": f"{admin.url}/dashboard"}
    )
    assert [r.status_code for r in (evil, null, bare, referred)] == [403, 403, 403, 200]
    assert "cross-origin" in evil.json()["detail"]
    login = await (await admin.client()).post(
        "/dashboard/login", data={"token": ADMIN_TOKEN}, headers={"Origin": "http://evil.example"}
    )
    assert (login.status_code, "set-cookie" in login.headers) == (403, False)


async def test_bearer_posts_need_no_csrf_token(admin: AdminHarness) -> None:
    """A Bearer-authenticated POST needs neither a CSRF token nor an Origin."""
    assert (await admin.api("POST", "/dead-letters/replay")).status_code == 200


async def test_logout_clears_the_cookie(admin: AdminHarness) -> None:
    """POST /dashboard/logout (with the CSRF form field) clears the cookie and goes to login."""
    browser = await admin.browser()
    out = await browser.client.post(
        "/dashboard/logout", data={"csrf_token": browser.csrf}, headers={"Origin": admin.url}
    )
    assert (out.status_code, out.headers["location"]) == (303, "/dashboard/login")
    cookie = _cookie_attributes(out)
    assert (cookie["name"], cookie["value"], cookie["max-age"]) == ("kt_jira_session", '""', "0")
    assert (await browser.client.get("/dashboard")).status_code == 303


async def test_every_admin_route_is_gated(admin: AdminHarness) -> None:
    """Every registered route under /dashboard and /api/v1 (but the login form) refuses a
    request without credentials, and refuses a session's POST without its CSRF token."""
    routes = [
        route
        for route in admin.harness.bridge.app.routes
        if isinstance(route, Route)
        and route.path.startswith(("/dashboard", "/api/v1"))
        and route.path != "/dashboard/login"
    ]
    assert len(routes) >= 12
    anonymous = await admin.client()
    browser = await admin.browser()
    for route in routes:
        path = route.path.replace("{id}", "1")
        for method in sorted((route.methods or set()) - {"HEAD"}):
            refused = await anonymous.request(method, path)
            where = f"{method} {route.path}"
            assert refused.status_code in (401, 303), where
            if refused.status_code == 303:
                assert refused.headers["location"] == "/dashboard/login", where
            if method == "POST":
                no_csrf = await browser.client.post(path, headers={"Origin": admin.url})
                assert no_csrf.status_code == 403, where
