"""Hostile or broken input on either side of the proxy gets a clean JSON error."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import httpx
import pytest

from tests.conftest import ROOT
from tests.factories import make_tenant, wait_for_usage

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = [{"role": "user", "content": "hello"}]


def chat(gateway, key: str, body: dict, **kwargs) -> httpx.Response:
    return httpx.post(
        gateway.v1 + "/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {key}", **kwargs.pop("headers", {})},
        timeout=10,
    )


def assert_json_error(response: httpx.Response, status: int, code: str | None):
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"]
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize("path", ["/v1", "//v1/models", "/V1/models", "/v1/"])
def test_odd_spellings_of_the_api_path_get_a_json_404(gateway, path):
    response = httpx.request(
        "GET", gateway.base_url + path, timeout=5, follow_redirects=False
    )

    assert_json_error(response, 404, "not_found")


def test_host_outside_allowed_hosts_is_refused(gateway, tenant):
    response = httpx.get(
        gateway.v1 + "/models",
        headers={"authorization": f"Bearer {tenant.key}", "host": "evil.example"},
        timeout=5,
    )

    assert_json_error(response, 400, None)


def test_text_part_without_string_text_is_a_400_naming_it(gateway, tenant):
    content = [{"type": "text", "text": 5}]
    response = chat(
        gateway,
        tenant.key,
        {"model": "demo/echo", "messages": [{"role": "user", "content": content}]},
    )

    assert_json_error(response, 400, None)
    assert response.json()["error"]["param"] == "messages[0].content[0].text"


@pytest.mark.parametrize(
    ("model", "stream"),
    [("fake-json-array", False), ("fake-empty-stream", True)],
)
def test_provider_answer_of_the_wrong_shape_is_a_502(gateway, tenant, model, stream):
    body = {"model": f"openai/{model}", "messages": HELLO, "stream": stream}

    assert_json_error(chat(gateway, tenant.key, body), 502, "upstream_invalid_response")


def test_provider_usage_that_is_not_numbers_counts_as_zero(gateway, tenant):
    response = chat(
        gateway, tenant.key, {"model": "openai/fake-bad-usage", "messages": HELLO}
    )

    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "echo: hello"
    record = wait_for_usage(request_id=response.headers["x-request-id"])
    assert (record.prompt_tokens, record.completion_tokens) == (0, 0)
    assert record.status_code == 200


def test_gunicorn_without_production_secrets_stops_instead_of_looping(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "gateway_project.settings",
        "DEBUG": "false",
        "WARDEN_DATA_DIR": str(tmp_path),
    }
    command = [
        sys.executable, "-m", "gunicorn", "gateway_project.asgi:application",
        "--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "1",
        "--bind", "127.0.0.1:0", "--no-control-socket",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode != 0
    assert "warden: configuration error: AUTH_SECRET is not set" in result.stderr
    assert result.stderr.count("configuration error") == 1


def test_model_name_with_a_control_character_is_a_400(gateway, tenant):
    response = chat(
        gateway, tenant.key, {"model": "demo/echo\u0000", "messages": HELLO}
    )

    assert_json_error(response, 400, None)
    assert response.json()["error"]["param"] == "model"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"tools": [{"type": "function", "function": "x"}]}, "tools[0].function"),
        (
            {"messages": [{"role": "assistant", "tool_calls": [{"function": "x"}]}]},
            "messages[0].tool_calls[0].function",
        ),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [{"function": {"name": "f", "arguments": 5}}],
                    }
                ]
            },
            "messages[0].tool_calls[0].function.arguments",
        ),
    ],
    ids=["tool", "tool-call", "arguments"],
)
def test_malformed_tool_shapes_are_400s_for_every_provider(
    gateway, fake_upstream, extra, param
):
    tenant = make_tenant(
        upstream_url=fake_upstream.base_url + "/v1", provider="anthropic"
    )
    body = {"model": "anthropic/claude-haiku-4-5", "messages": HELLO, **extra}

    response = chat(gateway, tenant.key, body)

    assert_json_error(response, 400, None)
    assert response.json()["error"]["param"] == param


def test_two_host_headers_are_refused(gateway, tenant):
    port = int(gateway.base_url.rsplit(":", 1)[1])
    request = (
        "GET /v1/models HTTP/1.1\r\n"
        "Host: evil.example\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {tenant.key}\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize(
    "query",
    ["api_key={key}", "key={key}", "x=1&access_token={key}", "q={key}", "q=%77dn_abc"],
)
def test_a_key_in_the_address_is_refused_and_not_echoed(gateway, tenant, query):
    url = gateway.v1 + "/models?" + query.format(key=tenant.key)

    answer = httpx.get(url, headers={"authorization": f"Bearer {tenant.key}"})

    assert_json_error(answer, 400, "key_in_query")
    assert tenant.key not in answer.text


def test_an_ordinary_query_string_is_fine(gateway, tenant):
    answer = httpx.get(
        gateway.v1 + "/models?limit=5",
        headers={"authorization": f"Bearer {tenant.key}"},
    )

    assert answer.status_code == 200


def test_too_many_messages_are_refused(gateway, tenant):
    messages = HELLO * 2001

    answer = chat(gateway, tenant.key, {"model": "demo/echo", "messages": messages})

    assert_json_error(answer, 400, None)
    assert answer.json()["error"]["param"] == "messages"


def test_the_proxy_sends_no_cors_headers_unless_configured(gateway, tenant):
    preflight = httpx.options(
        gateway.v1 + "/chat/completions",
        headers={"origin": "https://app.example.test",
                 "access-control-request-method": "POST"},
    )  # fmt: skip
    answer = httpx.get(
        gateway.v1 + "/models",
        headers={"authorization": f"Bearer {tenant.key}",
                 "origin": "https://app.example.test"},
    )  # fmt: skip

    for response in (preflight, answer):
        assert "access-control-allow-origin" not in response.headers


def test_configured_origins_may_call_the_proxy_without_credentials(tmp_path, tenant):
    from tests.conftest import start_gateway, stop

    server = start_gateway(
        tmp_path / "gateway.log", PROXY_CORS_ALLOWED_ORIGINS="https://app.example.test"
    )
    try:
        preflight = httpx.options(
            server.v1 + "/chat/completions",
            headers={"origin": "https://app.example.test",
                     "access-control-request-method": "POST",
                     "access-control-request-headers": "authorization"},
        )  # fmt: skip
        answer = httpx.get(
            server.v1 + "/models",
            headers={"authorization": f"Bearer {tenant.key}",
                     "origin": "https://app.example.test"},
        )  # fmt: skip
        other = httpx.get(
            server.v1 + "/models",
            headers={"authorization": f"Bearer {tenant.key}",
                     "origin": "https://evil.example"},
        )  # fmt: skip
    finally:
        stop(server)

    assert preflight.status_code == 204
    assert (
        preflight.headers["access-control-allow-origin"] == "https://app.example.test"
    )
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    assert preflight.headers["access-control-max-age"] == "86400"
    assert "access-control-allow-credentials" not in preflight.headers
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://app.example.test"
    assert "x-request-id" in answer.headers["access-control-expose-headers"]
    assert "x-ratelimit-reset-tokens" in answer.headers["access-control-expose-headers"]
    assert "access-control-allow-origin" not in other.headers


def test_a_key_in_an_unknown_path_is_not_echoed(gateway, tenant):
    url = gateway.v1 + "/models;api_key=" + tenant.key

    answer = httpx.get(url, headers={"authorization": f"Bearer {tenant.key}"})

    assert_json_error(answer, 404, "not_found")
    assert tenant.key not in answer.text
    assert "/v1/models;api_key=" in answer.json()["error"]["message"]
