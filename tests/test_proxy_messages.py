"""Anthropic's Messages API through the gateway, with the anthropic SDK as client."""

from __future__ import annotations

import uuid

import anthropic
import httpx
import pytest

from accounts.tenancy import platform_context
from providers.models import ProviderCredential
from providers.services import credential_plaintext
from tests.factories import make_tenant, wait_for_usage

pytestmark = pytest.mark.django_db(transaction=True)

MODEL = "anthropic/claude-haiku-4-5"
HELLO = [{"role": "user", "content": "hello there"}]


@pytest.fixture
def tenant(fake_upstream):
    return make_tenant(
        upstream_url=fake_upstream.base_url + "/v1",
        provider="anthropic",
        provider_key="sk-ant-test-" + uuid.uuid4().hex,
    )


@pytest.fixture
def claude(gateway, tenant):
    return anthropic.Anthropic(
        base_url=gateway.base_url, api_key=tenant.key, max_retries=0
    )


def test_message_is_relayed_as_it_is_and_recorded(claude, tenant, fake_upstream):
    reply = claude.messages.with_raw_response.create(
        model=MODEL, max_tokens=64, system="be brief", messages=HELLO
    )
    message = reply.parse()

    assert message.content[0].text == "echo: hello there"
    sent = fake_upstream.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.body["model"] == "claude-haiku-4-5"
    assert sent.body["system"] == "be brief"
    assert sent.headers["x-api-key"] == tenant_provider_key(tenant)
    record = wait_for_usage(request_id=reply.headers["x-request-id"])
    assert (record.prompt_tokens, record.completion_tokens) == (
        message.usage.input_tokens,
        message.usage.output_tokens,
    )
    assert record.endpoint == "messages"
    assert record.cost_usd > 0


def test_streamed_message_arrives_whole_with_its_events(claude, tenant):
    with claude.messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert text == "echo: hello there"
    assert final.stop_reason == "end_turn"
    record = wait_for_usage(organization=tenant.organization, stream=True)
    assert record.completion_tokens == final.usage.output_tokens
    assert record.ttft_ms is not None


def test_provider_rate_limit_is_an_anthropic_rate_limit_error(claude):
    with pytest.raises(anthropic.RateLimitError) as caught:
        claude.messages.create(
            model="anthropic/fake-error-429", max_tokens=8, messages=HELLO
        )

    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body["type"] == "error"


def test_bad_gateway_key_is_an_anthropic_authentication_error(gateway):
    client = anthropic.Anthropic(
        base_url=gateway.base_url, api_key="nope", max_retries=0
    )

    with pytest.raises(anthropic.AuthenticationError) as caught:
        client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)

    assert caught.value.body["error"]["type"] == "authentication_error"


def test_model_of_another_provider_is_refused_with_a_pointer(gateway, fake_upstream):
    tenant = make_tenant(upstream_url=fake_upstream.base_url + "/v1")
    client = anthropic.Anthropic(
        base_url=gateway.base_url, api_key=tenant.key, max_retries=0
    )

    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model="openai/gpt-4o-mini", max_tokens=8, messages=HELLO)

    assert "/v1/chat/completions" in caught.value.body["error"]["message"]


def test_missing_max_tokens_is_a_400_in_anthropic_shape(gateway, tenant):
    response = httpx.post(
        gateway.v1 + "/messages",
        json={"model": MODEL, "messages": HELLO},
        headers={"x-api-key": tenant.key},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in response.json()["error"]["message"]


def test_stream_broken_midway_ends_with_an_error_event(gateway, tenant):
    response = httpx.post(
        gateway.v1 + "/messages",
        json={
            "model": "anthropic/fake-drop-stream",
            "max_tokens": 8,
            "stream": True,
            "messages": HELLO,
        },
        headers={"x-api-key": tenant.key},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.text.rstrip().splitlines()[-2] == "event: error"
    assert '"type":"error"' in response.text


def tenant_provider_key(tenant) -> str:
    with platform_context():
        row = ProviderCredential.objects.for_organization(tenant.organization).get()
    return credential_plaintext(row)


def test_provider_echoing_its_key_never_reaches_the_caller(gateway, tenant):
    secret = tenant_provider_key(tenant)
    body = {"model": "anthropic/fake-echo-key", "max_tokens": 8, "messages": HELLO}
    headers = {"x-api-key": tenant.key}

    plain = httpx.post(gateway.v1 + "/messages", json=body, headers=headers, timeout=5)
    streamed = httpx.post(
        gateway.v1 + "/messages",
        json=dict(body, stream=True),
        headers=headers,
        timeout=5,
    )

    assert plain.status_code == 502
    assert "[redacted]" in plain.text
    assert streamed.status_code == 200
    assert "[redacted]" in streamed.text
    for response in (plain, streamed):
        assert secret not in response.text


def test_stream_null_means_not_streamed(gateway, tenant):
    body = {"model": MODEL, "max_tokens": 8, "messages": HELLO, "stream": None}

    response = httpx.post(
        gateway.v1 + "/messages",
        json=body,
        headers={"x-api-key": tenant.key},
        timeout=5,
    )

    assert response.status_code == 200
    assert response.json()["type"] == "message"
