"""How the bridge reaches one service over the network: an HTTP(S) proxy and a CA bundle, per
service (``jira``, ``keeptrusts``, ``sla.notify``), checked when the file loads.

A proxy URL may carry credentials (``http://user:pass@proxy:3128``), so a ``ProxyUrl`` never
prints them: its ``repr`` and its serialised form hide the user information, and a secret
reference (``env:NAME``, ``file:PATH``) keeps them out of the file altogether. Without a proxy,
httpx reads ``HTTPS_PROXY`` / ``NO_PROXY`` from the environment as usual.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from kt_jira.config.secrets import SCHEMES, SecretRef
from kt_jira.errors import ConfigError

PROXY_SCHEMES = ("http", "https")
_PROXY_HINT = (
    "use an http:// or https:// proxy URL such as http://proxy.example.com:3128, or a secret "
    "reference (env:NAME, file:PATH) when it carries credentials"
)


class ProxyUrl:
    """A proxy's URL, given in the file or by a secret reference; ``repr`` hides credentials."""

    __slots__ = ("_url", "secret")

    def __init__(self, *, url: str | None = None, secret: SecretRef | None = None) -> None:
        if (url is None) == (secret is None):
            raise ValueError("a ProxyUrl is either a URL or a secret reference")
        self._url = url
        self.secret = secret

    def reveal(self) -> str:
        """The URL to connect through; a referenced one is checked when it is read."""
        if self.secret is None:
            return str(self._url)
        value = self.secret.reveal()
        problem = proxy_problem(value)
        if problem:
            where = self.secret.where or "proxy"
            raise ConfigError(f"{where}: the proxy URL from {self.secret.reference} {problem}")
        return value

    @property
    def shown(self) -> str:
        """What may be printed: the reference, or the URL with ``***`` for its credentials."""
        if self.secret is not None:
            return self.secret.reference
        parts = urlsplit(str(self._url))
        if parts.username is None and parts.password is None:
            return str(self._url)
        host = parts.netloc.rpartition("@")[2]
        return parts._replace(netloc=f"***@{host}").geturl()

    def __repr__(self) -> str:
        return f"ProxyUrl({self.shown!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProxyUrl) and (other._url, other.secret) == (
            self._url,
            self.secret,
        )

    def __hash__(self) -> int:
        return hash((self._url, self.secret))


def proxy_problem(url: str) -> str | None:
    """What is wrong with ``url`` as a proxy URL, or ``None``."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"is not a URL; {_PROXY_HINT}"
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        return f"is not an http(s) proxy URL; {_PROXY_HINT}"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "has a path; a proxy URL is scheme://[user:password@]host:port"
    return None


def _proxy(value: Any) -> ProxyUrl:
    if isinstance(value, ProxyUrl):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(_PROXY_HINT)
    text = value.strip()
    if text.startswith(SCHEMES):
        return ProxyUrl(secret=SecretRef(text))
    problem = proxy_problem(text)
    if problem:
        # The value itself is never echoed: it may hold the proxy's password.
        raise ValueError(f"the proxy URL {problem}")
    return ProxyUrl(url=text)


def _ca_bundle(value: Any) -> Path:
    path = Path(str(value)).expanduser()
    if not path.is_file():
        raise ValueError(
            f"{path} is not a file; name the PEM file of the CA that signs the service's "
            "certificate (a relative path is read from the working directory)"
        )
    try:
        ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        raise ValueError(
            f"{path} holds no PEM certificate ({reason}); export the CA certificate as PEM "
            "(-----BEGIN CERTIFICATE-----)"
        ) from None
    return path


#: A proxy URL (credentials hidden when shown) or a secret reference to one.
Proxy = Annotated[ProxyUrl, BeforeValidator(_proxy), PlainSerializer(lambda p: p.shown)]
#: A PEM file of CA certificates, checked to exist and parse when the config loads.
CaBundle = Annotated[Path, BeforeValidator(_ca_bundle), PlainSerializer(str)]


class Network(BaseModel):
    """The network keys of a service's section: ``proxy`` and ``ca_bundle`` (mixed in).

    ``proxy`` sends every request of that service through the proxy (the environment's
    ``NO_PROXY`` does not apply to it); ``ca_bundle`` replaces the default trust store for it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    proxy: Proxy | None = None
    ca_bundle: CaBundle | None = None
