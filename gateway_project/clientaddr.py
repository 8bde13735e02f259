"""The address a request really comes from.

The connection's peer address, unless that peer is one of ``TRUSTED_PROXIES``
(a load balancer or reverse proxy): then ``X-Forwarded-For`` is read from the
right, past every trusted hop, and the first address not trusted is the
client's. Anything a client writes to the left of that is never believed.
Every throttle, audit record and session list asks here.

Before Django or the proxy sees a request, ``untrusted_forwarding_removed``
drops every forwarding header (X-Forwarded-For, -Proto, -Host, ``Forwarded``)
that did not come from a trusted proxy, so ``SECURE_PROXY_SSL_HEADER`` and
anything else reading them can only believe a proxy. The server's own
handling of these headers is off (see ``gateway_project/worker.py``): it
would trust any local peer.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def canonical(value: str) -> str:
    """A valid IP address in its canonical text, or nothing."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def real_address(peer: str, forwarded_for: str = "") -> str:
    """Return the client's address given the peer and its X-Forwarded-For."""
    address = canonical(peer)
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))
    if not trusted or not _inside(address, trusted):
        return address
    for hop in reversed([part for part in forwarded_for.split(",") if part.strip()]):
        hop_address = canonical(hop)
        if not hop_address:
            return address  # a malformed hop: trust no further
        address = hop_address
        if not _inside(address, trusted):
            return address
    return address


def is_trusted_proxy(address: str) -> bool:
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))
    return bool(trusted) and _inside(canonical(address), trusted)


FORWARDING_HEADERS = frozenset(
    {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-proto",
        b"x-real-ip",
    }
)


def untrusted_forwarding_removed(scope: dict[str, Any]) -> dict[str, Any]:
    """Return the ASGI scope without forwarding headers unless a proxy sent them.

    From a trusted proxy, X-Forwarded-Proto keeps only its last entry: a proxy
    that appends rather than overwrites puts its own after the client's, and
    Django would read the first.
    """
    names = {name.lower() for name, _ in scope.get("headers", ())}
    if names.isdisjoint(FORWARDING_HEADERS):
        return scope  # the usual request: nothing to drop, nothing to merge
    client = scope.get("client") or ("", 0)
    trusted = is_trusted_proxy(client[0])
    headers, protos = [], []
    for name, value in scope.get("headers", ()):
        lowered = name.lower()
        if lowered == b"x-forwarded-proto" and trusted:
            protos += [part.strip() for part in value.split(b",")]
        elif trusted or lowered not in FORWARDING_HEADERS:
            headers.append((name, value))
    if protos:
        headers.append((b"x-forwarded-proto", protos[-1]))
    return {**scope, "headers": headers}


def request_address(request: HttpRequest) -> str:
    return real_address(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
    )


def _inside(address: str, networks: Sequence[Network]) -> bool:
    if not address:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in networks)


@functools.cache
def _networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)
