"""Admin sessions: the signed session cookie, its CSRF token, and the token comparison.

A session cookie is ``v1.<expires>.<nonce>.<mac>``: ``expires`` in Unix seconds, ``nonce`` 16
random bytes (URL-safe base64), ``mac`` the hex HMAC-SHA256 of ``v1.<expires>.<nonce>`` under a
key derived from ``server.admin_token``, so changing the token ends every session at once. The
CSRF token is an HMAC of the nonce under another derived key: one per session, nothing stored.
No I/O and no clock here (callers pass ``now``); no value here is ever logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

SESSION_COOKIE = "kt_jira_session"
SESSION_LIFETIME = timedelta(hours=12)
_VERSION = "v1"


def token_matches(presented: str, expected: str) -> bool:
    """Whether ``presented`` is the admin token, in constant time: both are hashed first, so
    neither their contents nor their lengths leak through timing."""
    ours = hashlib.sha256(expected.encode()).digest()
    theirs = hashlib.sha256(presented.encode(errors="replace")).digest()
    return hmac.compare_digest(theirs, ours)


def csrf_matches(expected: str, presented: str | None) -> bool:
    """Whether a request carries its session's CSRF token, compared in constant time."""
    if not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode(errors="replace"))


def _derive(token: str, purpose: bytes) -> bytes:
    return hmac.new(token.encode(), b"kt-jira admin " + purpose, hashlib.sha256).digest()


@dataclass(frozen=True)
class Session:
    """A valid session read from its cookie (or just issued)."""

    nonce: str
    expires: datetime
    csrf: str = field(repr=False)  #: the token its forms and requests must carry

    @property
    def who(self) -> str:
        """The session's name in the audit trail: a digest of its nonce, not the nonce."""
        return "session:" + hashlib.sha256(self.nonce.encode()).hexdigest()[:12]


class SessionKeys:
    """Issue and read sessions for one admin token."""

    def __init__(self, admin_token: str) -> None:
        self._token = admin_token
        self._cookie_key = _derive(admin_token, b"session cookie v1")
        self._csrf_key = _derive(admin_token, b"csrf v1")

    def token_matches(self, presented: str) -> bool:
        return token_matches(presented, self._token)

    def issue(self, *, now: datetime) -> tuple[str, Session]:
        """A new session's cookie value and the session."""
        nonce = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
        expires = int((now + SESSION_LIFETIME).timestamp())
        message = f"{_VERSION}.{expires}.{nonce}"
        return f"{message}.{self._mac(message)}", self._session(nonce, expires)

    def read(self, value: str | None, *, now: datetime) -> Session | None:
        """The session a cookie value carries; ``None`` when it is absent, forged, signed under
        another token or expired."""
        if not value:
            return None
        parts = value.split(".")
        if len(parts) != 4 or parts[0] != _VERSION or not parts[1].isdigit():
            return None
        message = ".".join(parts[:3])
        if not hmac.compare_digest(self._mac(message).encode(), parts[3].encode()):
            return None
        expires = int(parts[1])
        if expires <= now.timestamp():
            return None
        return self._session(parts[2], expires)

    def _session(self, nonce: str, expires: int) -> Session:
        csrf = hmac.new(self._csrf_key, nonce.encode(), hashlib.sha256).digest()
        return Session(
            nonce=nonce,
            expires=datetime.fromtimestamp(expires, UTC),
            csrf=base64.urlsafe_b64encode(csrf).decode().rstrip("="),
        )

    def _mac(self, message: str) -> str:
        return hmac.new(self._cookie_key, message.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "SessionKeys(<hidden>)"
