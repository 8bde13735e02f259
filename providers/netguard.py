"""Where the gateway may connect: no private, loopback, link-local or metadata
addresses unless ``UPSTREAM_ALLOW_PRIVATE_NETWORKS`` is on. Plain http is for
private networks only: it needs that setting, and every address the host has
must be a private one, so no provider key crosses the internet unencrypted.

Base URLs are checked when saved, and every address a host name resolves to is
checked again when the connection is made, so a DNS answer that changes after
the check (rebinding) cannot reach an internal address.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

import httpx


class BlockedDestination(Exception):
    """The URL or address is not a permitted upstream destination."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Translation prefixes that carry an IPv4 address the checks below cannot
# locate reliably; none is a provider's address.
_REFUSED_V6 = [
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
    ipaddress.ip_network("::ffff:0:0:0/96"),  # IPv4-translated (RFC 2765)
    ipaddress.ip_network("100::/64"),  # discard-only
    ipaddress.ip_network("fec0::/10"),  # deprecated site-local
]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _REFUSED_V6):
            return False
        return all(is_public_address(str(v4)) for v4 in _embedded_ipv4(ip)) and (
            ip.is_global and not ip.is_multicast
        )
    return ip.is_global and not ip.is_multicast


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Return the IPv4 addresses an IPv6 address carries (mapped, 6to4, ...)."""
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [v4 for v4 in found if v4 is not None]


def check_address(address: str, *, plain_text: bool = False) -> None:
    """Raise ``BlockedDestination`` unless the gateway may connect to ``address``.

    ``plain_text`` (a connection without TLS) also refuses public addresses.
    """
    if _never_allowed(address):
        # Link-local (cloud metadata services live there) and unspecified
        # addresses are nobody's provider, private networks allowed or not.
        raise BlockedDestination(f"address {address} is not a public address")
    if plain_text and not settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS:
        raise BlockedDestination(PLAIN_HTTP_REFUSED)
    if plain_text and is_public_address(address):
        raise BlockedDestination(
            f"plain http to the public address {address} is refused; use https"
        )
    if settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS:
        return
    if not is_public_address(address):
        raise BlockedDestination(f"address {address} is not a public address")


PLAIN_HTTP_REFUSED = (
    "plain http is refused; use https, or set "
    "UPSTREAM_ALLOW_PRIVATE_NETWORKS for a provider on a private network"
)


# Cloud metadata services outside the link-local ranges.
_METADATA = [
    ipaddress.ip_address("fd00:ec2::254"),  # AWS, over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
]


def _never_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates += _embedded_ipv4(ip)
    return any(
        c.is_link_local or c.is_unspecified or c in _METADATA for c in candidates
    )


def check_base_url(url: str) -> str:
    """Return the normalised URL if it may be used as a provider base URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise BlockedDestination("base URL is malformed") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedDestination("base URL must be an http or https URL with a host")
    if parts.username or parts.password:
        raise BlockedDestination("base URL must not contain credentials")
    if parts.query or parts.fragment:
        raise BlockedDestination("base URL must not have a query or fragment")
    try:
        # The proxy's HTTP client is stricter than urlsplit: an address it
        # cannot parse (0177.0.0.1, say) would fail every request.
        httpx.URL(url.strip())
    except httpx.InvalidURL:
        raise BlockedDestination("base URL is malformed") from None
    plain_text = parts.scheme == "http"
    if plain_text and not settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS:
        raise BlockedDestination(PLAIN_HTTP_REFUSED)
    for address in resolve(parts.hostname, port or (80 if plain_text else 443)):
        check_address(address, plain_text=plain_text)
    return url.strip().rstrip("/")


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise BlockedDestination(f"host {host!r} does not resolve") from None
    return sorted({str(info[4][0]) for info in infos})
