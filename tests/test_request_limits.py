"""Request limits on a live gunicorn gateway: header size, body size and its
deadline, JSON depth, and a provider that stalls, each a clear JSON error."""

from __future__ import annotations

import json
import select
import socket
import time

import httpx
import pytest

from tests.conftest import start_served_gateway, stop
from tests.factories import make_tenant
from tests.test_proxy_errors import read_response

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = [{"role": "user", "content": "hello"}]
BODY_LIMIT = 64 * 1024
DEPTH_LIMIT = 64
HEADER_LIMIT = 16 * 1024


@pytest.fixture(scope="module")
def limited(django_db_setup, django_db_blocker, tmp_path_factory):
    """A gunicorn gateway with a small body limit and a one-second body deadline."""
    server = start_served_gateway(
        tmp_path_factory.mktemp("limited") / "gateway.log",
        PROXY_MAX_BODY_BYTES=str(BODY_LIMIT),
        PROXY_BODY_TIMEOUT="1",
    )
    yield server
    stop(server)


def port_of(gateway) -> int:
    return int(gateway.base_url.rsplit(":", 1)[1])


def assert_json_error(answer: httpx.Response, status: int, code: str | None) -> dict:
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    return error


# --- header size -----------------------------------------------------------------


@pytest.mark.parametrize("size", [HEADER_LIMIT, 1024 * 1024])
def test_headers_over_the_limit_are_a_431_in_openai_shape_on_v1(limited, tenant, size):
    answer = httpx.get(
        limited.v1 + "/models",
        headers={"authorization": f"Bearer {tenant.key}", "x-padding": "a" * size},
        timeout=10,
    )

    error = assert_json_error(answer, 431, "request_header_fields_too_large")
    assert str(HEADER_LIMIT) in error["message"]
    assert answer.headers["connection"] == "close"
    assert tenant.key not in answer.text


def test_headers_over_the_limit_are_a_431_in_anthropic_shape_on_messages(limited):
    answer = httpx.post(
        limited.v1 + "/messages", json={}, headers={"x-padding": "a" * HEADER_LIMIT}
    )

    assert answer.status_code == 431
    assert answer.json()["type"] == "error"
    assert "headers are larger" in answer.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v1/me/", "/healthz", "/accounts/login/"])
def test_headers_over_the_limit_are_a_431_in_json_elsewhere(limited, path):
    answer = httpx.get(
        limited.base_url + path, headers={"x-padding": "a" * HEADER_LIMIT}, timeout=10
    )

    assert answer.status_code == 431
    assert answer.headers["content-type"] == "application/json"
    assert str(HEADER_LIMIT) in answer.json()["detail"]


def test_headers_under_the_limit_are_served(limited, tenant):
    answer = httpx.get(
        limited.v1 + "/models",
        headers={"authorization": f"Bearer {tenant.key}", "x-padding": "a" * 15000},
        timeout=10,
    )

    assert answer.status_code == 200


# --- body size and deadline -----------------------------------------------------------


def test_a_chunked_body_over_the_limit_is_a_413(limited, tenant, fake_upstream):
    fake_upstream.clear()

    def chunks():
        yield b'{"model": "openai/fake-chat", "messages": '
        yield b'[{"role": "user", "content": "'
        for _ in range(BODY_LIMIT // 1024 + 1):
            yield b"a" * 1024
        yield b'"}]}'

    answer = httpx.post(
        limited.v1 + "/chat/completions",
        content=chunks(),
        headers={"authorization": f"Bearer {tenant.key}"},
        timeout=10,
    )

    error = assert_json_error(answer, 413, "request_too_large")
    assert str(BODY_LIMIT) in error["message"]
    assert fake_upstream.requests == []


def open_request(gateway, key: str, declared: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port_of(gateway)), timeout=10)
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port_of(gateway)}\r\n"
        f"Authorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"model": ')
    return sock


def assert_timed_out(sock: socket.socket) -> None:
    """Check the answer is a JSON 408, then that the server closed the connection."""
    status, headers, body = read_response(sock)
    assert status == 408
    assert headers["content-type"] == "application/json"
    assert body["error"]["code"] == "request_timeout"
    assert body["error"]["type"] == "invalid_request_error"
    assert sock.recv(1) == b""


def test_a_body_that_stalls_is_a_408_and_its_connection_closed(
    limited, tenant, fake_upstream
):
    fake_upstream.clear()

    with open_request(limited, tenant.key, declared=500) as sock:
        assert_timed_out(sock)

    assert fake_upstream.requests == []


def test_a_body_that_trickles_is_a_408(limited, tenant, fake_upstream):
    fake_upstream.clear()

    with open_request(limited, tenant.key, declared=500) as sock:
        for _ in range(50):  # a byte every 0.2 s, each in time for a per-read limit
            if select.select([sock], [], [], 0.2)[0]:
                break
            sock.sendall(b" ")
        assert_timed_out(sock)

    assert fake_upstream.requests == []


def test_the_gateway_serves_others_while_a_body_stalls(limited, tenant):
    with open_request(limited, tenant.key, declared=500) as stalled:
        answer = httpx.post(
            limited.v1 + "/chat/completions",
            json={"model": "demo/echo", "messages": HELLO},
            headers={"authorization": f"Bearer {tenant.key}"},
            timeout=10,
        )
        assert answer.status_code == 200
        assert_timed_out(stalled)


# --- JSON depth ---------------------------------------------------------------


def nested_schema(depth: int) -> dict:
    """A tool whose body, counting the body itself, nests ``depth`` levels."""
    # body > tools > tool > function > parameters: five levels before the nest.
    schema: dict = {"type": "string"}
    for _ in range(depth - 5):
        schema = {"items": schema}
    return {"type": "function", "function": {"name": "f", "parameters": schema}}


@pytest.mark.parametrize("depth", [DEPTH_LIMIT + 1, 255, 2000])
def test_json_nested_past_the_limit_is_a_400(limited, tenant, fake_upstream, depth):
    fake_upstream.clear()
    body = {"model": "openai/fake-chat", "messages": HELLO}
    raw = json.dumps(body)[:-1] + ', "tools": [' + "[" * depth + "]" * depth + "]}"

    answer = httpx.post(
        limited.v1 + "/chat/completions",
        content=raw.encode(),
        headers={"authorization": f"Bearer {tenant.key}"},
        timeout=10,
    )

    error = assert_json_error(answer, 400, None)
    assert f"more than {DEPTH_LIMIT} levels deep" in error["message"]
    assert fake_upstream.requests == []


def test_json_nested_to_the_limit_is_forwarded(limited, tenant, fake_upstream):
    fake_upstream.clear()
    body = {
        "model": "openai/fake-chat",
        "messages": HELLO,
        "tools": [nested_schema(DEPTH_LIMIT)],
    }

    answer = httpx.post(
        limited.v1 + "/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {tenant.key}"},
        timeout=10,
    )

    assert answer.status_code == 200, answer.text
    assert fake_upstream.requests[-1].body["tools"] == body["tools"]


# --- a provider that stalls ---------------------------------------------------------


def test_a_provider_that_stalls_mid_stream_ends_a_messages_stream_with_an_error(
    limited, fake_upstream
):
    tenant = make_tenant(
        upstream_url=fake_upstream.base_url + "/v1", provider="anthropic"
    )
    body = {
        "model": "anthropic/fake-stall-stream",
        "max_tokens": 50,
        "stream": True,
        "messages": HELLO,
    }
    started = time.monotonic()

    with httpx.stream(
        "POST",
        limited.v1 + "/messages",
        json=body,
        headers={"x-api-key": tenant.key},
        timeout=20,
    ) as answer:
        raw = answer.read()

    assert answer.status_code == 200
    assert time.monotonic() - started < 15  # the read timeout is 2 s
    name, data = raw.rstrip(b"\n").split(b"\n\n")[-1].split(b"\n")
    assert name == b"event: error"
    assert json.loads(data.removeprefix(b"data: "))["error"]["type"] == "timeout_error"


def test_a_provider_that_never_answers_embeddings_is_a_504(limited, tenant):
    answer = httpx.post(
        limited.v1 + "/embeddings",
        json={"model": "openai/fake-stall", "input": "hello"},
        headers={"authorization": f"Bearer {tenant.key}"},
        timeout=20,
    )

    assert_json_error(answer, 504, "upstream_timeout")


def site_request(gateway, path: str, declared: int, first: bytes) -> socket.socket:
    """Open a POST to a page or the API, sending ``first`` of its body."""
    port = port_of(gateway)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    )
    sock.sendall(head.encode() + first)
    return sock


@pytest.mark.parametrize("path", ["/api/v1/orgs/", "/accounts/login/"])
def test_a_body_that_stalls_outside_v1_is_a_408_and_its_connection_closed(
    limited, path
):
    with site_request(limited, path, declared=500, first=b"{") as sock:
        status, headers, body = read_response(sock)

        assert status == 408
        assert headers["content-type"] == "application/json"
        assert "did not arrive within 1 seconds" in body["detail"]
        assert sock.recv(1) == b""


def test_a_body_that_arrives_in_parts_outside_v1_is_served(limited):
    with site_request(limited, "/api/v1/orgs/", declared=2, first=b"{") as sock:
        sock.sendall(b"}")
        status, _, body = read_response(sock)

    assert status == 401  # the body came in time; no token, so refused
    assert "detail" in body
