"""A key's allowed endpoints, client networks and models, through a real gateway."""

from __future__ import annotations

import httpx
import openai
import pytest

from keys.services import api_key_create

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = [{"role": "user", "content": "hello"}]


def limited_key(tenant, **limits) -> str:
    return api_key_create(project=tenant.project, name="limited", limits=limits)[1]


def post(gateway, path: str, key: str, body: dict) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"}
    return httpx.post(gateway.v1 + path, headers=headers, json=body, timeout=10)


def assert_forbidden(response: httpx.Response, code: str) -> None:
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == "permission_error"
    assert error["message"]


def test_endpoint_outside_allowed_endpoints_is_403(gateway, tenant):
    key = limited_key(tenant, allowed_endpoints=["chat/completions"])
    body = {"model": "openai/text-embedding-3-small", "input": "hi"}

    assert_forbidden(post(gateway, "/embeddings", key, body), "endpoint_not_allowed")
    chat = {"model": "openai/gpt-4o-mini", "messages": HELLO}
    assert post(gateway, "/chat/completions", key, chat).status_code == 200


def test_models_endpoint_covers_model_retrieval(gateway, tenant):
    key = limited_key(tenant, allowed_endpoints=["chat/completions"])
    headers = {"authorization": f"Bearer {key}"}

    response = httpx.get(gateway.v1 + "/models/openai/gpt-4o-mini", headers=headers)

    assert_forbidden(response, "endpoint_not_allowed")


def test_refusal_on_messages_has_anthropic_shape(gateway, tenant):
    key = limited_key(tenant, allowed_endpoints=["chat/completions"])
    body = {"model": "anthropic/claude-haiku-4-5", "max_tokens": 5, "messages": HELLO}

    response = post(gateway, "/messages", key, body)

    assert response.status_code == 403
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "permission_error"


def test_client_outside_allowed_ips_is_403(gateway, tenant):
    key = limited_key(tenant, allowed_ips=["10.0.0.0/8", "192.168.1.7"])
    body = {"model": "openai/gpt-4o-mini", "messages": HELLO}

    assert_forbidden(post(gateway, "/chat/completions", key, body), "ip_not_allowed")


def test_client_inside_allowed_ips_is_served(gateway, tenant):
    key = limited_key(tenant, allowed_ips=["10.0.0.0/8", "127.0.0.0/24"])
    body = {"model": "openai/gpt-4o-mini", "messages": HELLO}

    assert post(gateway, "/chat/completions", key, body).status_code == 200


def test_model_outside_allowed_models_is_403(gateway, tenant):
    client = openai.OpenAI(
        base_url=gateway.v1,
        api_key=limited_key(tenant, allowed_models=["openai/gpt-4o-mini"]),
        max_retries=0,
    )

    with pytest.raises(openai.PermissionDeniedError) as refused:
        client.chat.completions.create(model="openai/gpt-4o", messages=HELLO)

    assert refused.value.code == "model_not_allowed"
    reply = client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert reply.choices[0].message.content == "echo: hello"


def test_bare_model_name_is_checked_as_resolved(gateway, tenant):
    key = limited_key(tenant, allowed_models=["openai/gpt-4o"])
    body = {"model": "gpt-4o-mini", "messages": HELLO}

    assert_forbidden(post(gateway, "/chat/completions", key, body), "model_not_allowed")


def test_provider_wildcard_allows_every_model_of_that_provider(gateway, tenant):
    key = limited_key(tenant, allowed_models=["openai/*"])
    body = {"model": "openai/gpt-4o", "messages": HELLO}
    demo = {"model": "demo/echo", "messages": HELLO}

    assert post(gateway, "/chat/completions", key, body).status_code == 200
    assert_forbidden(post(gateway, "/chat/completions", key, demo), "model_not_allowed")


def test_model_list_shows_only_allowed_models(gateway, tenant):
    client = openai.OpenAI(
        base_url=gateway.v1,
        api_key=limited_key(tenant, allowed_models=["openai/gpt-4o-mini", "demo/*"]),
        max_retries=0,
    )

    listed = {model.id for model in client.models.list()}

    openai_models = {model for model in listed if model.startswith("openai/")}
    assert openai_models == {"openai/gpt-4o-mini"}
    assert "demo/echo" in listed
    with pytest.raises(openai.PermissionDeniedError):
        client.models.retrieve("openai/gpt-4o")
