"""Where the gateway may connect: no private, loopback, link-local or metadata
addresses unless ``UPSTREAM_ALLOW_PRIVATE_NETWORKS`` is on.

Base URLs are checked when saved, and every address a host name resolves to is
checked again when the connection is made, so a DNS answer that changes after
the check (rebinding) cannot reach an internal address.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class BlockedDestination(Exception):
    """The URL or address is not a permitted upstream destination."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_address(address: str) -> None:
    if settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS:
        return
    if not is_public_address(address):
        raise BlockedDestination(f"address {address} is not a public address")


def check_base_url(url: str) -> str:
    """Return the normalised URL if it may be used as a provider base URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedDestination("base URL must be an http or https URL with a host")
    if parts.username or parts.password:
        raise BlockedDestination("base URL must not contain credentials")
    if parts.query or parts.fragment:
        raise BlockedDestination("base URL must not have a query or fragment")
    if parts.scheme == "http" and not settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS:
        raise BlockedDestination("plain http is only allowed for private networks")
    for address in resolve(parts.hostname, parts.port or 443):
        check_address(address)
    return url.strip().rstrip("/")


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise BlockedDestination(f"host {host!r} does not resolve") from None
    return sorted({info[4][0] for info in infos})
