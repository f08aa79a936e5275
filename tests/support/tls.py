"""A private CA and a loopback certificate it signed (``trustme``), as the files a TLS server and
the bridge's ``ca_bundle`` take: a service behind an internal CA, as in a corporate network."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True, kw_only=True)
class PrivateCa:
    """``ca_file`` is the CA's certificate (what ``ca_bundle`` names); ``server_pem`` holds the
    certificate for 127.0.0.1 and localhost with its key (``serve_app(certfile=...)``)."""

    ca_file: Path
    server_pem: Path


def private_ca(directory: Path) -> PrivateCa:
    ca = trustme.CA(organization_name="kt-jira test CA")
    server = ca.issue_cert("127.0.0.1", "localhost")
    found = PrivateCa(ca_file=directory / "ca.pem", server_pem=directory / "server.pem")
    ca.cert_pem.write_to_path(str(found.ca_file))
    server.private_key_and_cert_chain_pem.write_to_path(str(found.server_pem))
    return found


__all__ = ["PrivateCa", "private_ca"]
