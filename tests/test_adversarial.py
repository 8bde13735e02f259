"""Hostile requests: each refused, or safely normalised, and none of the refused
ones reaching a provider or opening a connection towards one.

Provider addresses that point inside the network (SSRF) are tried through
every way a base URL enters: the management API, the provider page, the
``set_provider_key`` command, and the proxy's own connection at request time.
Requests that try to smuggle a second request, a second credential or an odd
path go to a live gunicorn gateway over raw sockets; hostile JSON goes to it
over HTTP.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

import httpx
import pytest

from accounts.services import project_create
from accounts.tests.conftest import join, organization, person, reauthenticated
from accounts.tokens import token_create
from guardrails.services import guardrail_policy_set
from providers import http, netguard
from providers.adapters.base import UpstreamError
from tests.conftest import start_served_gateway, stop
from tests.factories import make_tenant

db = pytest.mark.django_db(transaction=True)
# Saving a base URL needs no server process: each test rolls back.
saving = pytest.mark.django_db

SECRET = "sk-test-provider-secret-1234567890"
HELLO = [{"role": "user", "content": "hello"}]
CARD = "4111 1111 1111 1111"

# Hosts a provider's base URL may not name, in the spellings that slip past
# naive checks. Each resolves without DNS: numeric forms are parsed locally
# and localhost comes from /etc/hosts.
LOOPBACK_HOSTS = {
    "dotted": "127.0.0.1",
    "other-loopback": "127.8.9.10",
    "decimal": "2130706433",
    "hex": "0x7f000001",
    "octal": "0177.0.0.1",
    "short": "127.1",
    "v6": "[::1]",
    "v4-mapped": "[::ffff:127.0.0.1]",
    "v4-mapped-hex": "[::ffff:7f00:1]",
    "v4-compatible": "[::127.0.0.1]",
    "name": "localhost",
}
PRIVATE_HOSTS = {
    "rfc1918-10": "10.0.0.1",
    "rfc1918-10-decimal": "167772161",
    "rfc1918-172-low": "172.16.0.1",
    "rfc1918-172-high": "172.31.255.254",
    "rfc1918-192": "192.168.1.1",
    "cgnat": "100.64.0.1",
    "v6-ula": "[fd00::1]",
    "6to4-private": "[2002:a00:1::1]",
}
# Never a provider's address, even with UPSTREAM_ALLOW_PRIVATE_NETWORKS on.
NEVER_HOSTS = {
    "metadata": "169.254.169.254",
    "metadata-hex": "0xa9fea9fe",
    "metadata-v4-mapped": "[::ffff:169.254.169.254]",
    "v6-link-local": "[fe80::1]",
    "unspecified": "0.0.0.0",
    "unspecified-short": "0",
    "v6-unspecified": "[::]",
}
BLOCKED_HOSTS = {**LOOPBACK_HOSTS, **PRIVATE_HOSTS, **NEVER_HOSTS}


def _table(hosts: dict[str, str]):
    return pytest.mark.parametrize("host", hosts.values(), ids=hosts.keys())


@pytest.fixture
def no_private(settings):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = False


@pytest.fixture
def tripwire(monkeypatch):
    """Record and refuse every outbound connection but those to the test's own
    PostgreSQL and Redis, so no refused destination is ever reached."""
    services = {
        (urlsplit(settings.REDIS_URL).port or 6379) if settings.REDIS_URL else None,
        int(settings.DATABASES["default"].get("PORT") or 5432),
    }
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        if isinstance(address, tuple) and address[1] in services:
            return real_connect(sock, address)
        attempts.append(address)
        raise ConnectionRefusedError(f"the test refused a connection to {address}")

    def connect_ex(sock, address):
        try:
            connect(sock, address)
        except ConnectionRefusedError:
            return 111
        return 0

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return attempts


@pytest.fixture
def acme():
    org = organization("acme")
    project_create(organization=org, slug="default")
    owner = person("olivia")
    join(org, owner, "owner")
    return org, owner


# --- SSRF when a base URL is saved -----------------------------------------------


def save_over_the_api(org, owner, url: str) -> tuple[int, str]:
    _, token = token_create(user=owner, name="test")
    answer = Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
        f"/api/v1/orgs/{org.slug}/provider-keys/",
        json.dumps({"provider": "custom", "key": SECRET, "base_url": url}),
        content_type="application/json",
    )
    return answer.status_code, answer.content.decode()


def save_on_the_page(org, owner, url: str) -> tuple[int, str]:
    client = reauthenticated(Client(), owner)
    answer = client.post(
        f"/orgs/{org.slug}/providers/set/",
        {"provider": "custom", "secret": SECRET, "base_url": url, "project": ""},
    )
    return answer.status_code, answer.content.decode()


def save_with_the_command(org, owner, url: str, monkeypatch) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    try:
        call_command("set_provider_key", org=org.slug, provider="custom", base_url=url)
    except CommandError as exc:
        return 400, str(exc)
    return 200, ""


SAVERS = {
    "api": lambda org, owner, url, _: save_over_the_api(org, owner, url),
    "page": lambda org, owner, url, _: save_on_the_page(org, owner, url),
    "command": save_with_the_command,
}


def assert_not_saved(org, status: int, text: str) -> None:
    from providers.models import ProviderCredential

    assert status == 400, text[:500]
    assert SECRET not in text
    assert not ProviderCredential.objects.filter(organization=org).exists()


@saving
@pytest.mark.parametrize("saver", SAVERS.values(), ids=SAVERS.keys())
@_table(BLOCKED_HOSTS)
def test_a_base_url_inside_the_network_is_refused_when_saved(
    acme, no_private, tripwire, monkeypatch, saver, host
):
    org, owner = acme

    status, text = saver(org, owner, f"https://{host}:9443/v1", monkeypatch)

    assert_not_saved(org, status, text)
    if saver is not SAVERS["page"]:  # the page's own URL check may answer first
        assert "not a public address" in text or "malformed" in text
    assert tripwire == []


@saving
@pytest.mark.parametrize("saver", SAVERS.values(), ids=SAVERS.keys())
@_table(NEVER_HOSTS)
def test_metadata_and_unspecified_addresses_are_refused_even_on_private_networks(
    acme, settings, tripwire, monkeypatch, saver, host
):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = True
    org, owner = acme

    status, text = saver(org, owner, f"http://{host}/v1", monkeypatch)

    assert_not_saved(org, status, text)
    assert tripwire == []


@saving
@pytest.mark.parametrize("saver", SAVERS.values(), ids=SAVERS.keys())
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9443/v1",
        "https://user:pass@api.provider.test/v1",
        "https://api.provider.test/v1?x=1",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
    ],
    ids=["plain-http", "credentials", "query", "file", "gopher"],
)
def test_a_base_url_of_the_wrong_form_is_refused_when_saved(
    acme, no_private, tripwire, monkeypatch, saver, url
):
    org, owner = acme

    status, text = saver(org, owner, url, monkeypatch)

    assert_not_saved(org, status, text)
    assert tripwire == []


@saving
@pytest.mark.parametrize("saver", SAVERS.values(), ids=SAVERS.keys())
@pytest.mark.parametrize("address", ["10.1.2.3", "fd00::5", "127.0.0.1"])
def test_a_name_that_resolves_inside_the_network_is_refused_when_saved(
    acme, no_private, tripwire, monkeypatch, saver, address
):
    def resolve(host: str, port: int) -> list[str]:
        assert host == "api.provider.test"
        return ["93.184.216.34", address]  # one bad answer is enough

    monkeypatch.setattr(netguard, "resolve", resolve)
    org, owner = acme

    status, text = saver(org, owner, "https://api.provider.test/v1", monkeypatch)

    assert_not_saved(org, status, text)
    assert tripwire == []


# --- SSRF when the proxy connects -----------------------------------------------


def send_in_process(url: str) -> UpstreamError:
    async def go() -> None:
        try:
            await http.send("POST", url, headers={}, payload={"model": "m"})
        finally:
            await http.close_client()

    with pytest.raises(UpstreamError) as refused:
        asyncio.run(go())
    return refused.value


@_table(BLOCKED_HOSTS)
def test_the_proxy_refuses_to_connect_inside_the_network(no_private, tripwire, host):
    refused = send_in_process(f"https://{host}:9443/v1/chat/completions")

    assert (refused.status, refused.code) == (502, "upstream_blocked")
    assert tripwire == []


@pytest.mark.parametrize("address", ["10.1.2.3", "172.20.0.1", "fd00::5", "::1"])
def test_the_proxy_checks_what_a_name_resolves_to_when_it_connects(
    no_private, tripwire, monkeypatch, address
):
    # The base URL passed its check when saved; the DNS answer changed since.
    async def rebound(host: str, port: int) -> list[str]:
        return [address]

    monkeypatch.setattr(http, "_resolve", rebound)

    refused = send_in_process("https://api.provider.test/v1/chat/completions")

    assert (refused.status, refused.code) == (502, "upstream_blocked")
    assert tripwire == []


@pytest.fixture(scope="module")
def public_only_gateway(django_db_setup, django_db_blocker, tmp_path_factory):
    """A gunicorn gateway that may connect to public addresses only."""
    server = start_served_gateway(
        tmp_path_factory.mktemp("public-only") / "gateway.log",
        UPSTREAM_ALLOW_PRIVATE_NETWORKS="false",
    )
    yield server
    stop(server)


@db
@_table(LOOPBACK_HOSTS)
def test_a_live_gateway_refuses_a_stored_loopback_address_without_connecting(
    public_only_gateway, fake_upstream, monkeypatch, host
):
    # Stored before the check could refuse it (or the name's DNS answer
    # changed since): the check at connect time still holds.
    monkeypatch.setattr("providers.services.check_base_url", str.strip)
    tenant = make_tenant(upstream_url=f"http://{host}:{fake_upstream.port}/v1")
    before = fake_upstream.connections

    answer = chat(
        public_only_gateway, tenant.key, {"model": "openai/m", "messages": HELLO}
    )

    assert_json_error(answer, 502, "upstream_blocked")
    assert fake_upstream.connections == before


@db
def test_a_redirect_to_a_private_address_is_not_followed(
    gateway, tenant, fake_upstream
):
    before = fake_upstream.connections
    fake_upstream.clear()

    answer = chat(
        gateway, tenant.key, {"model": "openai/fake-redirect", "messages": HELLO}
    )

    assert_json_error(answer, 502, "upstream_error")
    paths = [request.path for request in fake_upstream.requests]
    assert paths == ["/v1/chat/completions"]
    assert fake_upstream.connections - before <= 1
    assert "redirected" not in answer.text


# --- helpers for the live gateway --------------------------------------------------


def chat(gateway, key: str, body: object, **kwargs) -> httpx.Response:
    return httpx.post(
        gateway.v1 + "/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {key}", **kwargs.pop("headers", {})},
        timeout=10,
        **kwargs,
    )


def post_raw(gateway, key: str, content: bytes) -> httpx.Response:
    return httpx.post(
        gateway.v1 + "/chat/completions",
        content=content,
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
        timeout=10,
    )


def assert_json_error(answer: httpx.Response, status: int, code: str | None) -> dict:
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    assert "Traceback" not in answer.text
    return error


# --- smuggling on the wire ---------------------------------------------------------


@pytest.fixture(scope="module")
def wire_gateway(django_db_setup, django_db_blocker, tmp_path_factory):
    """A gunicorn gateway, as production runs it, for raw-socket requests."""
    server = start_served_gateway(tmp_path_factory.mktemp("wire") / "gateway.log")
    yield server
    stop(server)


def converse(gateway, raw: bytes) -> bytes:
    """Send ``raw`` on one connection; return all the server sent until it
    closed the connection or went quiet."""
    port = int(gateway.base_url.rsplit(":", 1)[1])
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        sock.settimeout(3)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
    return answer


def statuses(answer: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"(?m)^HTTP/1\.[01] (\d{3}) ", answer)]


def chat_body(text: str = "hello") -> bytes:
    return json.dumps(
        {"model": "openai/fake-chat", "messages": [{"role": "user", "content": text}]}
    ).encode()


def smuggled(host: str, key: str) -> bytes:
    """A complete second request hidden where a body is expected."""
    body = chat_body("smuggled")
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\n"
        b"Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (host.encode(), key.encode(), len(body), body)
    )


def head(host: str, key: str, *lines: str, target="/v1/chat/completions") -> bytes:
    fields = [f"POST {target} HTTP/1.1", f"Host: {host}"]
    if key:
        fields.append(f"Authorization: Bearer {key}")
    fields += ["Content-Type: application/json", *lines]
    return ("\r\n".join(fields) + "\r\n\r\n").encode()


def hidden_after_chunks(host, key, *framing: str) -> bytes:
    """A chunked body that ends at once, then a second request hidden behind
    it; ``framing`` are the header lines, ``{length}`` the length of it all."""
    body = b"0\r\n\r\n" + smuggled(host, key)
    return head(host, key, *(line.format(length=len(body)) for line in framing)) + body


def cl_and_te(host, key):
    return hidden_after_chunks(
        host, key, "Content-Length: {length}", "Transfer-Encoding: chunked"
    )


def te_and_cl(host, key):
    return hidden_after_chunks(
        host, key, "Transfer-Encoding: chunked", "Content-Length: {length}"
    )


def two_lengths(host, key):
    body = chat_body()
    hidden = smuggled(host, key)
    return (
        head(host, key, f"Content-Length: {len(body)}",
             f"Content-Length: {len(body) + len(hidden)}")
        + body + hidden
    )  # fmt: skip


def te_not_last(host, key):
    return hidden_after_chunks(
        host, key, "Transfer-Encoding: chunked, identity", "Content-Length: {length}"
    )


def te_space_before_colon(host, key):
    return hidden_after_chunks(
        host, key, "Transfer-Encoding : chunked", "Content-Length: {length}"
    )


def obs_fold(host, key):
    body = chat_body()
    return (
        head(host, "", f"Authorization: Bearer\r\n {key}",
             f"Content-Length: {len(body)}")
        + body
    )  # fmt: skip


def two_authorizations(host, key):
    body = chat_body()
    return (
        head(host, key, "Authorization: Bearer wdn_someone_else",
             f"Content-Length: {len(body)}")
        + body
    )  # fmt: skip


def two_api_key_headers(host, key):
    body = chat_body()
    return (
        head(host, "", f"x-api-key: {key}", "x-api-key: wdn_someone_else",
             f"Content-Length: {len(body)}")
        + body
    )  # fmt: skip


def absolute_form(host, key):
    body = chat_body()
    return (
        head(host, key, f"Content-Length: {len(body)}",
             target="http://evil.example/v1/chat/completions")
        + body
    )  # fmt: skip


def path(target: str):
    def build(host, key):
        body = chat_body()
        return head(host, key, f"Content-Length: {len(body)}", target=target) + body

    return build


# Each: how it is built, and the statuses the gateway may answer with. None of
# these may reach the provider.
REFUSED_ON_THE_WIRE = {
    "content-length-and-chunked": (cl_and_te, {400}),
    "chunked-and-content-length": (te_and_cl, {400}),
    "two-content-lengths": (two_lengths, {400}),
    "chunked-not-last": (te_not_last, {400}),
    "space-before-colon": (te_space_before_colon, {400}),
    "obs-fold": (obs_fold, {400}),
    "two-authorization-headers": (two_authorizations, {400}),
    "two-x-api-key-headers": (two_api_key_headers, {400}),
    "dot-segments": (path("/v1/../admin/"), {404}),
    "encoded-dot-segments": (path("/v1/%2e%2e/admin/"), {404}),
    "dot-segments-after-a-route": (path("/v1/chat/completions/../../admin/"), {404}),
    "encoded-slashes": (path("/v1/models/..%2f..%2fadmin"), {404, 405}),
    "double-slash": (path("//v1/chat/completions"), {404}),
    "upper-case": (path("/V1/chat/completions"), {404}),
    "null-byte": (path("/v1/chat/completions%00"), {404}),
}


@db
@pytest.mark.parametrize(
    "build, allowed",
    REFUSED_ON_THE_WIRE.values(),
    ids=REFUSED_ON_THE_WIRE.keys(),
)
def test_smuggling_on_the_wire_is_refused_without_reaching_the_provider(
    wire_gateway, tenant, fake_upstream, build, allowed
):
    host = wire_gateway.base_url.removeprefix("http://")
    fake_upstream.clear()
    before = fake_upstream.connections

    answer = converse(wire_gateway, build(host, tenant.key))

    codes = statuses(answer)
    assert codes and set(codes) <= allowed, answer[:500]
    assert len(codes) == 1, answer[:1000]
    assert fake_upstream.requests == []
    assert fake_upstream.connections == before
    assert tenant.key.encode() not in answer


@db
def test_an_absolute_form_target_reaches_the_provider_at_most_once(
    wire_gateway, tenant, fake_upstream
):
    # uvicorn keeps only the path of an absolute-form target: the request is
    # served as one for that path on the Host header's host.
    host = wire_gateway.base_url.removeprefix("http://")
    fake_upstream.clear()

    answer = converse(wire_gateway, absolute_form(host, tenant.key))

    assert statuses(answer) in ([200], [400], [404]), answer[:500]
    assert len(fake_upstream.requests) <= 1


# --- hostile JSON ------------------------------------------------------------------

MODEL = b'"model": "openai/fake-chat"'
# Each: a raw body, and a word the error message must hold.
REFUSED_BODIES = {
    "nan": (b'{%s, "temperature": NaN, "messages": []}' % MODEL, "not valid JSON"),
    "infinity": (b'{%s, "temperature": Infinity}' % MODEL, "not valid JSON"),
    "huge-float": (b'{%s, "temperature": 1e400}' % MODEL, "not valid JSON"),
    "huge-integer": (
        b'{%s, "max_tokens": 1%s, "messages": [{"role": "user", "content": "x"}]}'
        % (MODEL, b"0" * 40),
        "integer",
    ),
    "lone-surrogate": (
        b'{%s, "messages": [{"role": "user", "content": "\\ud800"}]}' % MODEL,
        "not valid JSON",
    ),
    "malformed-utf8": (
        b'{%s, "messages": [{"role": "user", "content": "\xff\xfe"}]}' % MODEL,
        "not valid JSON",
    ),
    "overlong-utf8": (
        b'{%s, "messages": [{"role": "user", "content": "\xc0\xaf"}]}' % MODEL,
        "not valid JSON",
    ),
    "byte-order-mark": (
        b'\xef\xbb\xbf{%s, "messages": [{"role": "user", "content": "x"}]}' % MODEL,
        "not valid JSON",
    ),
    "utf16": (
        '{"model": "openai/fake-chat", "messages": []}'.encode("utf-16"),
        "not valid JSON",
    ),
    "top-level-array": (b"[{%s}]" % MODEL, "JSON object"),
    "top-level-string": (b'"hello"', "JSON object"),
    "top-level-null": (b"null", "JSON object"),
    "empty": (b"", "not valid JSON"),
    "trailing-data": (b'{%s}{"model": "x"}' % MODEL, "not valid JSON"),
    "nested-arrays": (
        b'{%s, "messages": %s}' % (MODEL, b"[" * 100_000 + b"]" * 100_000),
        "levels deep",
    ),
    "nested-objects": (
        b'{%s, "metadata": %s}' % (MODEL, b'{"a":' * 300 + b"1" + b"}" * 300),
        "levels deep",
    ),
}


@db
@pytest.mark.parametrize(
    "body, words", REFUSED_BODIES.values(), ids=REFUSED_BODIES.keys()
)
def test_hostile_json_is_a_400_that_reaches_no_provider(
    gateway, tenant, fake_upstream, body, words
):
    before = fake_upstream.connections
    fake_upstream.clear()

    answer = post_raw(gateway, tenant.key, body)

    error = assert_json_error(answer, 400, None)
    assert words in error["message"]
    assert fake_upstream.requests == []
    assert fake_upstream.connections == before


@db
@pytest.mark.parametrize(
    "contents",
    [(f"card {CARD}", "hello"), ("hello", f"card {CARD}")],
    ids=["secret-first", "secret-last"],
)
def test_duplicate_keys_forward_exactly_what_guardrails_scanned(
    gateway, tenant, fake_upstream, contents
):
    # Were the raw body forwarded, a duplicate "content" could carry a card
    # number past a guardrail that read only the other one.
    guardrail_policy_set(
        organization=tenant.organization, settings={"pii": {"action": "redact"}}
    )
    first, last = (json.dumps(text) for text in contents)
    body = (
        '{"model": "openai/fake-chat", "messages": [{"role": "user", '
        f'"content": {first}, "content": {last}}}]}}'
    ).encode()
    fake_upstream.clear()

    answer = post_raw(gateway, tenant.key, body)

    assert answer.status_code == 200, answer.text
    (sent,) = fake_upstream.requests
    assert b"4111" not in sent.raw
    assert sent.body["messages"] == [
        {"role": "user", "content": contents[1].replace(CARD, "[CARD_1]")}
    ]


@db
@pytest.mark.parametrize(
    "query",
    [
        "api_key={key}",
        "key={key}",
        "api-key={key}",
        "access_token={key}",
        "x=1&token={key}",
        "Authorization=Bearer%20{key}",
        "q={key}",
        "q=%77dn_abc",
    ],
)
def test_a_key_in_the_query_string_is_refused_without_reaching_the_provider(
    gateway, tenant, fake_upstream, query
):
    before = fake_upstream.connections
    fake_upstream.clear()

    answer = httpx.post(
        gateway.v1 + "/chat/completions?" + query.format(key=tenant.key),
        json={"model": "openai/fake-chat", "messages": HELLO},
        headers={"authorization": f"Bearer {tenant.key}"},
        timeout=10,
    )

    assert_json_error(answer, 400, "key_in_query")
    assert tenant.key not in answer.text
    assert fake_upstream.requests == []
    assert fake_upstream.connections == before
