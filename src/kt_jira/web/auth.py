"""The admin gate: who may reach ``/dashboard*`` and ``/api/v1/*``, and the login form.

Without a readable ``server.admin_token`` every admin path answers 404 and the log says, once,
how to turn them on. With it, a request gets in with ``Authorization: Bearer <token>`` (scripts;
no CSRF check) or with the session cookie the login form sets (browsers): then every
state-changing request must also come from this origin (``Origin``, else ``Referer``) and carry
the session's CSRF token (``X-CSRF-Token`` header or ``csrf_token`` form field). Wrong
credentials wait ``FAILURE_DELAY`` seconds, one failure at a time, against guessing. Tokens and
cookies never reach a log.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import structlog
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from kt_jira.config.models import Settings
from kt_jira.errors import ConfigError
from kt_jira.web.body import BodyTooLarge, read_limited
from kt_jira.web.keeptrusts import problem
from kt_jira.web.session import SESSION_COOKIE, SESSION_LIFETIME, SessionKeys, csrf_matches

log = structlog.get_logger("kt_jira.web")

FAILURE_DELAY = 0.5  # seconds a wrong token or login waits; failures wait in turn
BODY_LIMIT = 64 * 1024  # bytes of an admin request body
LOGIN_PATH = "/dashboard/login"
LOGOUT_PATH = "/dashboard/logout"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ENABLE_HINT = "set server.admin_token: env:KT_JIRA_ADMIN_TOKEN (and that variable) to enable them"
DISABLED = f"the dashboard and admin API are disabled: {ENABLE_HINT}"
SIGN_IN = (
    f"not signed in: send Authorization: Bearer <server.admin_token>, or log in at {LOGIN_PATH}"
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class Admin:
    """Who passed the gate (``admin`` for the Bearer token, ``session:<digest>`` for a login),
    the session's CSRF token (empty for Bearer) and the request body, read within the limit."""

    who: str
    csrf: str = field(repr=False)
    body: bytes = field(repr=False)


AdminEndpoint = Callable[[Request, Admin], Awaitable[Response]]


def csrf_token(request: Request) -> str:
    """The CSRF token a page rendered for ``request`` puts in its forms (a hidden
    ``csrf_token`` field) or its scripts' ``X-CSRF-Token`` header; empty for a Bearer request,
    which needs none."""
    admin = getattr(request.state, "admin", None)
    return admin.csrf if isinstance(admin, Admin) else ""


def admin_token(settings: Settings) -> str | None:
    """The admin token, or ``None`` when it is unset or cannot be read (warned at start)."""
    if settings.server.admin_token is None:
        return None
    try:
        return settings.server.admin_token.reveal()
    except ConfigError:
        return None


def same_origin(request: Request) -> bool:
    """Whether the browser says the request comes from a page of this site: ``Origin`` (or,
    without one, ``Referer``) names the host the request was sent to. Neither: refused."""
    host = request.headers.get("host", "").lower()
    claimed = request.headers.get("origin") or request.headers.get("referer") or ""
    if not host or not claimed or claimed == "null":
        return False
    return urlsplit(claimed).netloc.lower() == host


def secure_cookie(request: Request) -> bool:
    """``Secure`` unless the request is plain http from loopback to a loopback name (the demo,
    a local try-out); behind a TLS proxy (``X-Forwarded-Proto: https``) always."""
    if request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https":
        return True
    client = request.client.host if request.client else ""
    return not (_loopback(client) and _loopback(request.url.hostname or ""))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def form_field(body: bytes, name: str) -> str | None:
    """One field of a URL-encoded form body (``None`` when absent or the form is malformed);
    the body was read within ``BODY_LIMIT``, which bounds the work."""
    try:
        fields = parse_qs(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    values = fields.get(name)
    return values[0] if values else None


def page(title: str, main: str, *, status: int = 200) -> HTMLResponse:
    """An admin HTML page: ``main`` (already escaped markup) inside ``<main>``, never cached,
    never framed, posting forms only to this site."""
    document = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>\n<body><main>{main}</main></body></html>\n"
    )
    return HTMLResponse(document, status_code=status, headers=PAGE_HEADERS)


@dataclass(kw_only=True)
class AdminGate:
    """The gate every admin route is wrapped in (``guard``), and the login and logout routes."""

    settings: Settings
    clock: Callable[[], datetime]
    failure_delay: float = FAILURE_DELAY
    _keys: tuple[str, SessionKeys] | None = field(default=None, init=False, repr=False)
    _warned: bool = field(default=False, init=False)
    _failures: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    _once: set[str] = field(default_factory=set, init=False, repr=False)

    def keys(self) -> SessionKeys | None:
        """The session keys of the admin token as it is now (read per request, so a rotated
        ``file:`` or ``ssm:`` token counts without a restart and ends the old sessions);
        ``None`` while the admin paths are disabled."""
        token = admin_token(self.settings)
        if token is None:
            return None
        if self._keys is None or self._keys[0] != token:
            self._keys = (token, SessionKeys(token))
        return self._keys[1]

    def guard(self, endpoint: AdminEndpoint) -> Callable[[Request], Awaitable[Response]]:
        """``endpoint`` behind the gate: it runs only for an admitted request, with its
        ``Admin`` (also at ``request.state.admin``, for ``csrf_token``)."""

        async def guarded(request: Request) -> Response:
            admitted = await self.admit(request)
            if isinstance(admitted, Response):
                return admitted
            request.state.admin = admitted
            return await endpoint(request, admitted)

        guarded.__name__ = getattr(endpoint, "__name__", "admin")
        guarded.__doc__ = endpoint.__doc__
        return guarded

    async def admit(self, request: Request) -> Admin | Response:
        """The request's ``Admin``, or the refusal to answer with (404, 401, 403, 413, 303)."""
        keys = self.keys()
        if keys is None:
            return self.disabled()
        authorization = request.headers.get("authorization")
        if authorization is not None:
            scheme, _, presented = authorization.partition(" ")
            if scheme.lower() != "bearer" or not keys.token_matches(presented.strip()):
                await self._failed("bearer")
                return _challenge(problem(401, "wrong admin token in Authorization: Bearer"))
            who, csrf, by_cookie = "admin", "", False
        else:
            session = keys.read(request.cookies.get(SESSION_COOKIE), now=self.clock())
            if session is None:
                return self._sign_in(request)
            who, csrf, by_cookie = session.who, session.csrf, True
        if request.method in SAFE_METHODS:
            return Admin(who=who, csrf=csrf, body=b"")
        if by_cookie and not same_origin(request):
            return problem(403, "cross-origin request refused: Origin is not this site")
        try:
            body = await read_limited(request, BODY_LIMIT)
        except BodyTooLarge:
            return problem(413, f"body exceeds {BODY_LIMIT} bytes")
        if by_cookie:
            sent = request.headers.get(CSRF_HEADER) or form_field(body, CSRF_FIELD)
            if not csrf_matches(csrf, sent):
                return problem(
                    403,
                    f"missing or wrong CSRF token: send the page's {CSRF_FIELD} form field or "
                    f"the {CSRF_HEADER} header (scripts: use Authorization: Bearer)",
                )
        return Admin(who=who, csrf=csrf, body=body)

    def disabled(self) -> Response:
        if not self._warned:
            self._warned = True
            log.warning("admin.disabled", message=DISABLED)
        return problem(404, DISABLED)

    def routes(self) -> list[Route]:
        return [
            Route(LOGIN_PATH, self.login, methods=["GET", "POST"]),
            Route(LOGOUT_PATH, self.guard(self.logout), methods=["POST"]),
        ]

    def one_time_login(self) -> str:
        """A login path that works once, in this process (``kt-jira demo`` prints it, so nobody
        has to copy the admin token); ``ConfigError`` while the admin paths are disabled."""
        if self.keys() is None:
            raise ConfigError(DISABLED)
        code = secrets.token_urlsafe(24)
        self._once.add(code)
        return f"{LOGIN_PATH}?once={code}"

    async def login(self, request: Request) -> Response:
        """``GET``: the form (or, with ``?once=``, a one-time link's sign-in). ``POST``: the
        right token sets the session cookie and goes to the dashboard; a wrong one waits, then
        answers 401 with the form again."""
        keys = self.keys()
        if keys is None:
            return self.disabled()
        if request.method != "POST":
            once = request.query_params.get("once")
            if once is None:
                return _login_form()
            if not self._redeem(once):
                await self._failed("one-time link")
                return _login_form(wrong=True)
            return self._signed_in(request, keys)
        if not same_origin(request):
            return problem(403, "cross-origin login refused: Origin is not this site")
        try:
            token = form_field(await read_limited(request, 4096), "token")
        except BodyTooLarge:
            return problem(413, "body exceeds 4096 bytes")
        if token is None or not keys.token_matches(token):
            await self._failed("login")
            return _login_form(wrong=True)
        return self._signed_in(request, keys)

    def _redeem(self, code: str) -> bool:
        """Use up a one-time login code (compared in constant time)."""
        for known in list(self._once):
            if hmac.compare_digest(known.encode(), code.encode()):
                self._once.discard(known)
                return True
        return False

    def _signed_in(self, request: Request, keys: SessionKeys) -> Response:
        value, session = keys.issue(now=self.clock())
        response = RedirectResponse("/dashboard", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            path="/",
            secure=secure_cookie(request),
            httponly=True,
            samesite="strict",
        )
        log.info("admin.login", who=session.who)
        return response

    async def logout(self, request: Request, admin: Admin) -> Response:
        """Clear the session cookie (it was the only copy this browser had) and go to login."""
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=secure_cookie(request), httponly=True,
            samesite="strict",
        )  # fmt: skip
        log.info("admin.logout", who=admin.who)
        return response

    def _sign_in(self, request: Request) -> Response:
        if request.method in SAFE_METHODS and request.url.path.startswith("/dashboard"):
            return RedirectResponse(LOGIN_PATH, status_code=303)
        return _challenge(problem(401, SIGN_IN))

    async def _failed(self, how: str) -> None:
        log.warning("admin.refused", how=how)
        async with self._failures:  # one failure at a time: guesses queue up
            await asyncio.sleep(self.failure_delay)


def _challenge(response: Response) -> Response:
    response.headers["WWW-Authenticate"] = 'Bearer realm="kt-jira admin"'
    return response


def _login_form(*, wrong: bool = False) -> HTMLResponse:
    alert = '<p role="alert">That is not the admin token.</p>' if wrong else ""
    main = (
        "<h1>kt-jira</h1>"
        f'<form method="post" action="{LOGIN_PATH}">'
        '<label for="token">Admin token (server.admin_token)</label> '
        '<input id="token" name="token" type="password" autocomplete="current-password" '
        "required autofocus> "
        '<button type="submit">Sign in</button></form>'
        f"{alert}"
    )
    return page("kt-jira: sign in", main, status=401 if wrong else 200)
