"""Every failure reaches the caller as an OpenAI-shaped JSON error."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

import h11
import httpx
import openai
import pytest

from keys import tokens
from keys.services import api_key_create, api_key_revoke
from providers.adapters import UpstreamError
from proxy.errors import ProxyError
from proxy.http import Exchange
from tests.factories import make_tenant, wait_for_usage

pytestmark = pytest.mark.django_db(transaction=True)

GENERATED_ID = re.compile(r"[0-9a-f]{32}")
HELLO = [{"role": "user", "content": "hello"}]


def post(gateway, path: str, key: str | None, **kwargs) -> httpx.Response:
    headers = kwargs.pop("headers", {})
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    return httpx.post(gateway.v1 + path, headers=headers, timeout=10, **kwargs)


def chat(gateway, key: str | None, body: object, **kwargs) -> httpx.Response:
    return post(gateway, "/chat/completions", key, json=body, **kwargs)


def assert_openai_error(
    response: httpx.Response,
    status: int,
    *,
    code: str | None,
    type: str = "invalid_request_error",
    param: str | None = None,
) -> dict:
    """Check the status, headers and shape; return the error object."""
    assert "Traceback" not in response.text
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert (error["type"], error["code"], error["param"]) == (type, code, param)
    return error


def tampered_checksum(key: str) -> str:
    last = key[-1]
    return key[:-1] + ("A" if last != "A" else "B")


# --- authentication -----------------------------------------------------------


def test_missing_key_is_401(gateway):
    error = assert_openai_error(
        chat(gateway, None, {"model": "demo/echo", "messages": HELLO}),
        401,
        code="invalid_api_key",
    )
    assert "Missing API key" in error["message"]


def test_malformed_key_is_401(gateway):
    assert_openai_error(
        chat(gateway, "sk-not-a-warden-key", {"model": "demo/echo", "messages": HELLO}),
        401,
        code="invalid_api_key",
    )


def test_well_formed_key_with_a_wrong_checksum_is_401(gateway, tenant):
    key = tampered_checksum(tenant.key)
    assert tokens.KEY_PATTERN.fullmatch(key)

    assert_openai_error(
        chat(gateway, key, {"model": "demo/echo", "messages": HELLO}),
        401,
        code="invalid_api_key",
    )


def test_key_with_an_unknown_key_id_is_401(gateway):
    key, _ = tokens.generate("live")

    assert_openai_error(
        chat(gateway, key, {"model": "demo/echo", "messages": HELLO}),
        401,
        code="invalid_api_key",
    )


@pytest.mark.services  # revocation reaches the gateway process through Redis
def test_revoked_key_is_401_even_after_it_was_cached(gateway, tenant):
    body = {"model": "demo/echo", "messages": HELLO}
    assert chat(gateway, tenant.key, body).status_code == 200
    with transaction.atomic():
        api_key_revoke(api_key=tenant.api_key)

    error = assert_openai_error(
        chat(gateway, tenant.key, body), 401, code="invalid_api_key"
    )
    assert "revoked" in error["message"]


def test_expired_key_is_401(gateway, tenant):
    _, key = api_key_create(
        project=tenant.project,
        name="expired",
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    error = assert_openai_error(
        chat(gateway, key, {"model": "demo/echo", "messages": HELLO}),
        401,
        code="invalid_api_key",
    )
    assert "expired" in error["message"]


def test_sdk_raises_authentication_error(gateway):
    client = openai.OpenAI(base_url=gateway.v1, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="demo/echo", messages=HELLO)

    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"


# --- routing ------------------------------------------------------------------


def test_unknown_model_is_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="nobody/model-x", messages=HELLO)

    assert caught.value.code == "model_not_found"
    assert caught.value.param == "model"
    assert "nobody/model-x" in caught.value.message


def test_unknown_model_error_has_openai_shape(gateway, tenant):
    assert_openai_error(
        chat(gateway, tenant.key, {"model": "gpt-9-ultra", "messages": HELLO}),
        404,
        code="model_not_found",
        param="model",
    )


def test_model_of_a_provider_without_credential_is_404(gateway, tenant):
    assert_openai_error(
        chat(
            gateway,
            tenant.key,
            {"model": "anthropic/claude-haiku-4-5", "messages": HELLO},
        ),
        404,
        code="model_not_found",
        param="model",
    )


def test_unknown_path_is_404(gateway, tenant):
    assert_openai_error(
        post(gateway, "/completions/legacy", tenant.key, json={}),
        404,
        code="not_found",
    )


def test_wrong_method_is_405(gateway, tenant):
    response = httpx.get(
        gateway.v1 + "/chat/completions",
        headers={"authorization": f"Bearer {tenant.key}"},
        timeout=10,
    )
    assert_openai_error(response, 405, code="method_not_allowed")


def test_wrong_method_names_the_allowed_method(gateway):
    response = httpx.delete(gateway.v1 + "/models", timeout=10)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


# --- malformed requests -------------------------------------------------------


def test_malformed_json_is_400(gateway, tenant):
    error = assert_openai_error(
        post(
            gateway,
            "/chat/completions",
            tenant.key,
            content=b'{"model": "demo/echo", "messages": [',
            headers={"content-type": "application/json"},
        ),
        400,
        code=None,
    )
    assert "not valid JSON" in error["message"]


def test_json_array_body_is_400(gateway, tenant):
    error = assert_openai_error(
        chat(gateway, tenant.key, [{"model": "demo/echo", "messages": HELLO}]),
        400,
        code=None,
    )
    assert "JSON object" in error["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("messages", "hello"),
        ("messages", []),
        ("stream", "true"),
        ("max_tokens", 0),
        ("n", True),
        ("temperature", "hot"),
        ("model", 42),
    ],
)
def test_wrong_field_type_is_400_naming_the_param(gateway, tenant, field, value):
    body = {"model": "openai/gpt-4o-mini", "messages": HELLO, field: value}

    assert_openai_error(chat(gateway, tenant.key, body), 400, code=None, param=field)


def test_message_without_a_role_is_400_naming_it(gateway, tenant):
    body = {"model": "demo/echo", "messages": [*HELLO, {"content": "no role"}]}

    assert_openai_error(
        chat(gateway, tenant.key, body), 400, code=None, param="messages[1]"
    )


def test_declared_body_over_the_limit_is_refused_before_it_is_sent(gateway, tenant):
    port = int(gateway.base_url.rsplit(":", 1)[1])
    declared = 33 * 1024 * 1024
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {tenant.key}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n"
        "\r\n"
    )
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head.encode())
        status, headers, body = read_response(sock)
    elapsed = time.monotonic() - started

    assert elapsed < 2
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert GENERATED_ID.fullmatch(headers["x-request-id"])
    assert body["error"]["code"] == "request_too_large"
    assert body["error"]["type"] == "invalid_request_error"
    assert str(32 * 1024 * 1024) in body["error"]["message"]


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], dict]:
    """Read one HTTP/1.1 response from ``sock``, whatever its framing."""
    parser = h11.Connection(our_role=h11.CLIENT)
    parser.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    parser.send(h11.EndOfMessage())
    status, headers, body = 0, {}, b""
    while True:
        event = parser.next_event()
        if event is h11.NEED_DATA:
            parser.receive_data(sock.recv(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
            headers = {k.decode(): v.decode() for k, v in event.headers}
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            return status, headers, json.loads(body)


# --- upstream failures --------------------------------------------------------


def test_provider_context_length_error_is_a_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="openai/fake-error-400-context", messages=HELLO
        )

    assert caught.value.status_code == 400
    assert caught.value.code == "context_length_exceeded"
    assert caught.value.param == "messages"
    assert caught.value.type == "invalid_request_error"
    assert "maximum context length is 8192 tokens" in caught.value.message


def test_provider_rate_limit_is_a_429_with_its_retry_after(client):
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="openai/fake-error-429", messages=HELLO)

    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.code == "provider_rate_limited"
    assert caught.value.type == "rate_limit_error"
    assert caught.value.response.headers["content-type"] == "application/json"


def test_provider_error_before_a_stream_starts_is_plain_json(gateway, tenant):
    body = {"model": "openai/fake-error-429", "messages": HELLO, "stream": True}
    response = chat(gateway, tenant.key, body)

    assert_openai_error(
        response, 429, code="provider_rate_limited", type="rate_limit_error"
    )
    assert response.headers["retry-after"] == "7"


def test_provider_server_error_is_a_502(gateway, tenant):
    error = assert_openai_error(
        chat(
            gateway, tenant.key, {"model": "openai/fake-error-500", "messages": HELLO}
        ),
        502,
        code="upstream_error",
        type="upstream_error",
    )
    assert "The server had an error" in error["message"]


def test_provider_refusing_the_credential_is_a_502(gateway, tenant):
    assert_openai_error(
        chat(
            gateway, tenant.key, {"model": "openai/fake-error-401", "messages": HELLO}
        ),
        502,
        code="upstream_authentication_failed",
        type="upstream_error",
    )
    # The operator sees what failed in the log, without the provider's words.
    logged = [
        line
        for line in gateway.log_text().splitlines()
        if "upstream failed provider=openai model=openai/fake-error-401" in line
    ]
    assert logged and "code=upstream_authentication_failed" in logged[-1]
    assert "Incorrect API key" not in logged[-1]


def test_provider_answer_that_is_not_json_is_a_502(gateway, tenant):
    response = chat(
        gateway, tenant.key, {"model": "openai/fake-garbage", "messages": HELLO}
    )

    assert_openai_error(
        response, 502, code="upstream_invalid_response", type="upstream_error"
    )
    assert "upstream exploded" not in response.text


def test_provider_dropping_the_connection_is_a_502(gateway, tenant):
    assert_openai_error(
        chat(gateway, tenant.key, {"model": "openai/fake-drop", "messages": HELLO}),
        502,
        code="upstream_unreachable",
        type="upstream_error",
    )


def test_provider_that_never_answers_is_a_504_after_the_read_timeout(client):
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="openai/fake-stall", messages=HELLO)
    elapsed = time.monotonic() - started

    assert caught.value.status_code == 504
    assert caught.value.code == "upstream_timeout"
    assert 1.5 < elapsed < 4


def test_sdk_sees_provider_5xx_as_internal_server_error(client):
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="openai/fake-error-500", messages=HELLO)

    assert caught.value.status_code == 502


# --- request ids --------------------------------------------------------------


def test_client_request_id_is_echoed(gateway, tenant):
    request_id = f"client-{uuid.uuid4().hex[:12]}:1.a_b"
    response = chat(
        gateway,
        tenant.key,
        {"model": "demo/echo", "messages": HELLO},
        headers={"x-request-id": request_id},
    )

    assert response.status_code == 200
    assert response.headers["x-request-id"] == request_id


def test_client_request_id_is_echoed_on_errors(gateway):
    response = chat(
        gateway,
        None,
        {"model": "demo/echo", "messages": HELLO},
        headers={"x-request-id": "my-request-7"},
    )

    assert response.status_code == 401
    assert response.headers["x-request-id"] == "my-request-7"


@pytest.mark.parametrize(
    "given",
    [
        "a" * 65,
        "has space",
        "semi;colon",
        "<script>alert(1)</script>",
        "tab\tinside",
        "",
    ],
)
def test_unsafe_client_request_id_is_replaced(gateway, tenant, given):
    response = chat(
        gateway,
        tenant.key,
        {"model": "demo/echo", "messages": HELLO},
        headers={"x-request-id": given},
    )

    assert response.status_code == 200
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


@pytest.mark.parametrize(
    "given",
    [b"abc\r\nset-cookie: evil=1", b"abc\ndef", b"abc\r", b"id\x00nul", "é".encode()],
)
def test_request_id_with_control_characters_is_replaced(given):
    # HTTP/1.1 servers refuse these before the application sees them; the
    # gateway must not rely on that (other servers, other protocol versions).
    scope = {"type": "http", "headers": [(b"x-request-id", given)]}

    exchange = Exchange.open(scope, receive=None, send=None)

    assert GENERATED_ID.fullmatch(exchange.request_id)


def test_provider_echoing_its_key_in_an_error_never_reaches_the_caller(
    gateway, fake_upstream
):
    secret = "sk-echoed-canary-" + uuid.uuid4().hex
    tenant = make_tenant(
        upstream_url=fake_upstream.base_url + "/v1", provider_key=secret
    )
    body = {"model": "openai/fake-echo-key", "messages": HELLO}

    plain = chat(gateway, tenant.key, body)
    streamed = chat(gateway, tenant.key, dict(body, stream=True))
    record = wait_for_usage(organization=tenant.organization, stream=False)

    assert fake_upstream.requests[-1].headers["authorization"] == f"Bearer {secret}"
    assert plain.status_code == 502
    assert "[redacted]" in plain.json()["error"]["message"]
    assert streamed.status_code == 200
    assert "[redacted]" in streamed.text
    for response in (plain, streamed):
        assert secret not in response.text
        assert secret not in str(response.headers)
    assert secret not in record.error_code


def test_provider_error_fields_that_are_not_strings_keep_the_error_shape():
    error = ProxyError.from_upstream(
        UpstreamError(400, "bad", type=7, code={"x": 1}, param=[1], retry_after="soon")
    )

    assert error.payload()["error"] == {
        "message": "bad",
        "type": "7",
        "param": "[1]",
        "code": "{'x': 1}",
    }
    assert error.headers == {}
