"""The network guard: which addresses an upstream may have, checked at connect time."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from providers import http
from providers.adapters.base import UpstreamError
from providers.netguard import BlockedDestination, check_address, check_base_url

BLOCKED = {
    "loopback": "127.0.0.1",
    "loopback-other": "127.8.9.10",
    "rfc1918-10": "10.0.0.5",
    "rfc1918-172": "172.16.3.4",
    "rfc1918-192": "192.168.1.1",
    "cgnat": "100.64.0.1",
    "link-local": "169.254.10.20",
    "metadata": "169.254.169.254",
    "this-network": "0.1.2.3",
    "unspecified": "0.0.0.0",
    "broadcast": "255.255.255.255",
    "reserved": "240.0.0.1",
    "test-net": "192.0.2.10",
    "benchmarking": "198.18.0.1",
    "multicast": "224.0.0.1",
    "multicast-global": "233.252.0.1",
    "v6-loopback": "::1",
    "v6-unspecified": "::",
    "v6-ula": "fd00::1",
    "v6-ula-fc": "fc00::abcd",
    "v6-link-local": "fe80::1",
    "v6-link-local-scoped": "fe80::1%eth0",
    "v6-multicast": "ff02::1",
    "v6-multicast-global": "ff0e::1",
    "v6-documentation": "2001:db8::1",
    "v4-mapped-loopback": "::ffff:127.0.0.1",
    "v4-mapped-metadata": "::ffff:169.254.169.254",
    "v4-mapped-private": "::ffff:10.0.0.1",
    "v4-mapped-hex": "::ffff:7f00:1",
}


@pytest.fixture
def no_private(settings):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = False


@pytest.mark.parametrize("address", BLOCKED.values(), ids=BLOCKED.keys())
def test_check_address_refuses_non_public_addresses(no_private, address):
    with pytest.raises(BlockedDestination):
        check_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_check_address_allows_public_addresses(no_private, address):
    check_address(address)


def test_check_address_allows_private_networks_when_they_are_on(settings):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = True
    check_address("127.0.0.1")
    check_address("10.1.2.3")
    check_address("fd00::1")


@pytest.mark.parametrize(
    "address",
    ["::127.0.0.1", "::169.254.169.254", "2002:a9fe:a9fe::1", "64:ff9b::a9fe:a9fe"],
)
def test_check_address_refuses_ipv4_embedded_in_other_ipv6_forms(no_private, address):
    with pytest.raises(BlockedDestination):
        check_address(address)


def test_check_base_url_normalises_an_allowed_url(no_private):
    assert check_base_url(" https://93.184.216.34/v1/ ") == "https://93.184.216.34/v1"


# --- the guard at connect time ---------------------------------------------------


@pytest.fixture
def listener():
    """A listening socket on 127.0.0.1 with a short accept timeout."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(0.3)
    try:
        yield sock
    finally:
        sock.close()


def send(url: str) -> object:
    async def go():
        try:
            response = await http.send("GET", url, headers={})
            return response.status_code, response.text
        finally:
            await http.close_client()

    return asyncio.run(go())


def assert_blocked(url: str, listener: socket.socket) -> None:
    with pytest.raises(UpstreamError) as excinfo:
        send(url)
    assert excinfo.value.code == "upstream_blocked"
    assert excinfo.value.status == 502
    with pytest.raises(TimeoutError):
        listener.accept()


def test_send_to_loopback_is_blocked_before_connecting(no_private, listener):
    port = listener.getsockname()[1]
    assert_blocked(f"http://127.0.0.1:{port}/v1/chat/completions", listener)


def test_send_to_mapped_loopback_is_blocked_before_connecting(no_private, listener):
    port = listener.getsockname()[1]
    assert_blocked(f"http://[::ffff:127.0.0.1]:{port}/", listener)


def test_send_to_a_name_resolving_to_loopback_is_blocked(no_private, listener):
    port = listener.getsockname()[1]
    assert_blocked(f"http://localhost:{port}/", listener)


def test_send_checks_the_address_a_public_looking_name_resolves_to(
    no_private, listener, monkeypatch
):
    # A DNS answer that changed after the base URL was saved (rebinding).
    async def rebound(host, port):
        assert host == "api.provider.example"
        return ["127.0.0.1"]

    monkeypatch.setattr(http, "_resolve", rebound)
    port = listener.getsockname()[1]
    assert_blocked(f"http://api.provider.example:{port}/v1", listener)


def test_send_does_not_use_proxy_variables(no_private, listener, monkeypatch):
    # Were the proxy variables honoured, the listener would get the connection.
    port = listener.getsockname()[1]
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{port}")

    async def loopback(host, port):
        return ["127.0.0.1"]

    monkeypatch.setattr(http, "_resolve", loopback)
    assert_blocked("http://api.provider.example/v1", listener)


def answer_once(sock: socket.socket, seen: list[bytes]) -> threading.Thread:
    def serve() -> None:
        sock.settimeout(5)
        conn, _ = sock.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            seen.append(data)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
                b"Connection: close\r\n\r\nreached"
            )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_send_reaches_loopback_when_private_networks_are_on(settings, listener):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = True
    seen: list[bytes] = []
    thread = answer_once(listener, seen)
    port = listener.getsockname()[1]

    assert send(f"http://127.0.0.1:{port}/ping") == (200, "reached")

    thread.join(5)
    assert seen and seen[0].startswith(b"GET /ping HTTP/1.1")


def test_redirects_are_not_followed(settings, listener):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = True
    port = listener.getsockname()[1]

    def serve() -> None:
        listener.settimeout(5)
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(
                b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest\r\n"
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    status, _ = send(f"http://127.0.0.1:{port}/")
    thread.join(5)
    assert status == 302


@pytest.mark.parametrize(
    "address",
    ["64:ff9b:1::a9fe:a9fe", "::ffff:0:7f00:1", "100::1"],
    ids=["local-use-nat64", "ipv4-translated", "discard"],
)
def test_check_address_refuses_translation_prefixes(no_private, address):
    with pytest.raises(BlockedDestination):
        check_address(address)


def test_check_base_url_refuses_a_host_name_idna_cannot_encode(no_private):
    with pytest.raises(BlockedDestination):
        check_base_url("https://a..b/v1")


def test_check_address_refuses_site_local_ipv6(no_private):
    with pytest.raises(BlockedDestination):
        check_address("fec0::1")


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "fe80::1",
        "0.0.0.0",
        "::ffff:169.254.169.254",
        "fd00:ec2::254",
        "100.100.100.200",
        "::ffff:100.100.100.200",
    ],
)
def test_link_local_and_unspecified_addresses_are_refused_even_on_private_networks(
    address, settings
):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = True

    with pytest.raises(BlockedDestination):
        check_address(address)


# --- plain http: private networks only ---------------------------------------------


def test_plain_http_is_refused_without_private_networks(no_private):
    with pytest.raises(BlockedDestination, match="plain http is refused"):
        check_base_url("http://127.0.0.1:8080/v1")


def test_plain_http_to_a_public_address_is_refused_even_on_private_networks(
    settings,
):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = True

    with pytest.raises(BlockedDestination, match="public address"):
        check_base_url("http://93.184.216.34/v1")
    assert check_base_url("https://93.184.216.34/v1") == "https://93.184.216.34/v1"
    assert check_base_url("http://10.1.2.3:8080/v1") == "http://10.1.2.3:8080/v1"


def test_plain_http_to_a_name_with_any_public_address_is_blocked_before_connecting(
    settings, listener, monkeypatch
):
    # The loopback address comes first: were the guard to let plain http
    # through, the connection would land on the listener, nowhere else.
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = True

    async def mixed(host, port):
        return ["127.0.0.1", "93.184.216.34"]

    monkeypatch.setattr(http, "_resolve", mixed)
    port = listener.getsockname()[1]
    assert_blocked(f"http://provider.internal.example:{port}/v1", listener)
