"""Secret references (``env:NAME``, ``file:PATH``, ``ssm:/param``, ``inline:VALUE``) that never
print their value.

A reference is resolved when it is used, so a command that does not need a secret does not
fail for lack of it; ``check-config`` and ``serve`` resolve the ones they need up front. Values
rotate without a restart: a ``file:`` secret is read again when the file changes; an ``ssm:``
secret (``config.ssm``) is fetched again once its TTL (``secrets.ssm_ttl``) has passed, and
when that fetch fails the last value stays in use (warned as ``secret.refresh_failed``). A
value with no known scheme is refused when the config loads, naming the key: a typo such as
``Env:JIRA_TOKEN`` must never be sent to Jira as the token. A literal needs ``inline:``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import structlog
from pydantic import BeforeValidator, PlainSerializer

from kt_jira.config import ssm
from kt_jira.errors import ConfigError

SCHEMES = ("env:", "file:", "ssm:", "inline:")
SSM_TTL_SECONDS = 300.0  #: the default of ``secrets.ssm_ttl``
log = structlog.get_logger("kt_jira.config")


class SecretRef:
    """A secret named by reference (or, discouraged, given inline); ``repr`` never shows it."""

    __slots__ = ("_cached", "_fetched", "_mtime", "_ref", "clock", "ttl", "where")

    def __init__(
        self, ref: str, *, where: str = "", clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ref = ref
        self._cached: str | None = None
        self._mtime: float | None = None  #: a file secret's mtime when it was read
        self._fetched: float | None = None  #: when an ssm secret was fetched (``clock``)
        self.where = where
        self.ttl = SSM_TTL_SECONDS  #: seconds an ssm value is used (the loader sets it)
        self.clock = clock  #: monotonic seconds, for the TTL (tests pass their own)

    @classmethod
    def literal(cls, value: str) -> SecretRef:
        """A secret known in code (tests, the demo); never written to a file."""
        ref = cls("inline:")
        ref._cached = value
        return ref

    @property
    def inline(self) -> bool:
        return self._ref.startswith("inline:")

    @property
    def reference(self) -> str:
        """The reference itself (``env:JIRA_API_TOKEN``), safe to show; inline values are hidden."""
        return "<inline secret>" if self.inline else self._ref

    def reveal(self) -> str:
        """The secret's value; raises ``ConfigError`` saying how to provide it when unavailable."""
        if self._ref.startswith("file:"):
            mtime = _mtime(self._ref)
            if self._cached is not None and mtime == self._mtime:
                return self._cached
            self._mtime = mtime
        elif self._ref.startswith("ssm:"):
            return self._reveal_ssm()
        elif self._cached is not None:
            return self._cached
        value = _resolve(self._ref, self.where)
        if not value:
            raise ConfigError(f"{self.where}: secret {self.reference} is empty")
        self._cached = value
        return value

    def _reveal_ssm(self) -> str:
        now = self.clock()
        fresh = self._fetched is not None and now - self._fetched < self.ttl
        if self._cached is not None and fresh:
            return self._cached
        try:
            value = ssm.get_parameter(self._ref[4:], where=self.where)
            if not value:
                raise ConfigError(f"{self.where}: secret {self.reference} is empty")
        except ConfigError as exc:
            if self._cached is None:
                raise
            # An SSM hiccup must not take the bridge down: keep the last value, try after a TTL.
            self._fetched = now
            log.warning(
                "secret.refresh_failed", key=self.where, reference=self._ref, error=str(exc)
            )
            return self._cached
        self._cached, self._fetched = value, now
        return value

    def __repr__(self) -> str:
        return f"SecretRef({self.reference!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretRef) and other._ref == self._ref

    def __hash__(self) -> int:
        return hash(self._ref)


def _resolve(ref: str, where: str) -> str:
    if ref.startswith("env:"):
        name = ref[4:]
        if name not in os.environ:
            raise ConfigError(f"{where}: environment variable {name} is not set (from {ref})")
        return os.environ[name].strip()
    if ref.startswith("file:"):
        path = Path(ref[5:]).expanduser()
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read secret file {path}: {exc.strerror}") from exc
    return ref.removeprefix("inline:")


def _mtime(ref: str) -> float | None:
    try:
        return Path(ref[5:]).expanduser().stat().st_mtime_ns / 1e9
    except OSError:
        return None


def _secret(value: Any) -> SecretRef:
    if isinstance(value, SecretRef):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a secret reference such as env:NAME or file:PATH")
    text = value.strip()
    if not text.startswith(SCHEMES):
        scheme = text.split(":", 1)[0].casefold() + ":"
        hint = f" (did you mean {scheme}?)" if ":" in text and scheme in SCHEMES else ""
        raise ValueError(
            f"is not a secret reference{hint}: use env:NAME, file:PATH or ssm:/name, or "
            "inline:VALUE for a literal (discouraged: it sits in the file)"
        )
    return SecretRef(text)


#: A config field holding a secret reference; serialised back as the reference, never the value.
Secret = Annotated[SecretRef, BeforeValidator(_secret), PlainSerializer(lambda s: s.reference)]
