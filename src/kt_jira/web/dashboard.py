"""The dashboard (``GET /dashboard``), behind the admin gate; for now a placeholder page.

``routes`` is what ``create_app`` mounts: every route it returns must be wrapped in
``gate.guard`` (a test checks that each one refuses a request without credentials).
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kt_jira.config.models import Settings
from kt_jira.store import Store
from kt_jira.web.auth import CSRF_FIELD, LOGOUT_PATH, Admin, AdminGate, csrf_token, page


def routes(settings: Settings, store: Store, *, gate: AdminGate) -> list[Route]:
    """The dashboard's routes, each behind ``gate``."""

    async def dashboard(request: Request, admin: Admin) -> Response:
        token = html.escape(csrf_token(request), quote=True)
        logout = (
            f'<form method="post" action="{LOGOUT_PATH}">'
            f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">'
            '<button type="submit">Sign out</button></form>'
        )
        return page("kt-jira", "<h1>kt-jira</h1>" + (logout if token else ""))

    return [Route("/dashboard", gate.guard(dashboard), methods=["GET"])]
