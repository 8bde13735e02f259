"""Embeddings, the model list, and project credentials overriding the org's."""

from __future__ import annotations

from decimal import Decimal

import openai
import pytest

from accounts.services import project_create
from keys.services import api_key_create
from providers.catalogue import catalogue
from providers.services import provider_credential_set
from tests.factories import make_tenant, new_request_id, wait_for_usage
from tests.fake_upstream import embedding_vector

pytestmark = pytest.mark.django_db(transaction=True)

EMBEDDING_MODEL = "openai/text-embedding-3-small"


def catalogue_models(*providers: str) -> list[str]:
    return sorted(
        model for model in catalogue().models if model.split("/")[0] in providers
    )


def sdk(gateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.v1, api_key=key, max_retries=0)


# --- embeddings ------------------------------------------------------------------


def test_embedding_of_a_string_is_forwarded_and_recorded(client, tenant, fake_upstream):
    request_id = new_request_id()
    result = client.embeddings.create(
        model=EMBEDDING_MODEL,
        input="hello embedding world",
        encoding_format="float",
        extra_headers={"x-request-id": request_id},
    )

    assert fake_upstream.requests[-1].path == "/v1/embeddings"
    assert fake_upstream.requests[-1].body == {
        "model": "text-embedding-3-small",
        "input": "hello embedding world",
        "encoding_format": "float",
    }
    (item,) = result.data
    assert item.index == 0
    assert item.embedding == embedding_vector("hello embedding world")
    assert (result.usage.prompt_tokens, result.usage.total_tokens) == (3, 3)
    record = wait_for_usage(request_id=request_id)
    assert record.endpoint == "embeddings"
    assert record.organization_id == tenant.organization.pk
    assert (record.model, record.provider) == (EMBEDDING_MODEL, "openai")
    assert (record.prompt_tokens, record.completion_tokens) == (3, 0)
    # text-embedding-3-small: 0.02 $ per million tokens.
    assert record.cost_usd == Decimal("0.0000000600")
    assert (record.status_code, record.stream) == (200, False)


def test_embeddings_of_a_list_come_back_in_order(client):
    request_id = new_request_id()
    texts = ["first text", "the second one here"]
    result = client.embeddings.create(
        model=EMBEDDING_MODEL, input=texts, extra_headers={"x-request-id": request_id}
    )

    assert [item.index for item in result.data] == [0, 1]
    for item, text in zip(result.data, texts, strict=True):
        # The SDK asks for base64 by default and decodes float32 values.
        assert item.embedding == pytest.approx(embedding_vector(text), abs=1e-6)
    assert result.usage.prompt_tokens == 6
    record = wait_for_usage(request_id=request_id)
    assert (record.prompt_tokens, record.completion_tokens) == (6, 0)
    assert record.cost_usd == Decimal("0.0000001200")


def test_embeddings_with_empty_input_are_a_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=EMBEDDING_MODEL, input=[])

    assert caught.value.param == "input"


def test_embeddings_from_a_provider_that_has_none_are_a_400(gateway):
    client = sdk(gateway, make_tenant().key)
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="demo/echo", input="text")

    assert caught.value.code == "unsupported_endpoint"


# --- the model list ------------------------------------------------------------------


def test_model_list_has_demo_and_the_credentialed_providers_models(client):
    models = list(client.models.list())

    ids = sorted(model.id for model in models)
    assert ids == catalogue_models("demo", "openai")
    assert "demo/echo" in ids
    assert "openai/gpt-4o-mini" in ids
    assert "openai/text-embedding-3-small" in ids
    assert not [i for i in ids if i.split("/")[0] not in ("demo", "openai")]
    assert {
        (model.object, model.owned_by == model.id.split("/")[0]) for model in models
    } == {("model", True)}


def test_model_list_without_credentials_is_only_the_demo(gateway):
    client = sdk(gateway, make_tenant().key)

    assert [model.id for model in client.models.list()] == ["demo/echo"]


def test_model_list_follows_which_provider_is_configured(gateway, fake_upstream):
    tenant = make_tenant(
        upstream_url=fake_upstream.base_url + "/v1", provider="anthropic"
    )

    ids = sorted(model.id for model in sdk(gateway, tenant.key).models.list())

    assert ids == catalogue_models("demo", "anthropic")
    assert "anthropic/claude-haiku-4-5" in ids
    assert not [i for i in ids if i.startswith("openai/")]


# --- project-level credentials ------------------------------------------------------


@pytest.fixture
def two_projects(fake_upstream, tenant):
    """``tenant.project`` has its own openai credential; ``other`` uses the org's."""
    provider_credential_set(
        organization=tenant.organization,
        provider="openai",
        secret="sk-project-override-key-9999",
        base_url=fake_upstream.base_url + "/alt/v1",
        project=tenant.project,
    )
    other = project_create(organization=tenant.organization, slug="other")
    _, other_key = api_key_create(project=other, name="other project key")
    return tenant.key, other_key


def test_project_credential_overrides_the_org_credential(
    gateway, fake_upstream, two_projects
):
    project_key, _ = two_projects

    sdk(gateway, project_key).chat.completions.create(
        model="openai/fake-chat", messages=[{"role": "user", "content": "hi"}]
    )

    sent = fake_upstream.requests[-1]
    assert sent.path == "/alt/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-project-override-key-9999"


def test_other_projects_keep_the_org_credential(gateway, fake_upstream, two_projects):
    _, other_key = two_projects

    sdk(gateway, other_key).chat.completions.create(
        model="openai/fake-chat", messages=[{"role": "user", "content": "hi"}]
    )

    sent = fake_upstream.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test-provider-key-0000"


def test_project_only_provider_is_visible_to_that_project_only(
    gateway, fake_upstream, tenant
):
    provider_credential_set(
        organization=tenant.organization,
        provider="anthropic",
        secret="sk-ant-project-only-key",
        base_url=fake_upstream.base_url + "/v1",
        project=tenant.project,
    )
    other = project_create(organization=tenant.organization, slug="no-anthropic")
    _, other_key = api_key_create(project=other, name="other project key")

    project_ids = {model.id for model in sdk(gateway, tenant.key).models.list()}
    other_client = sdk(gateway, other_key)
    other_ids = {model.id for model in other_client.models.list()}

    assert "anthropic/claude-haiku-4-5" in project_ids
    assert sorted(other_ids) == catalogue_models("demo", "openai")
    with pytest.raises(openai.NotFoundError):
        other_client.chat.completions.create(
            model="anthropic/claude-haiku-4-5",
            messages=[{"role": "user", "content": "hi"}],
        )
