"""Chat completions through a real gateway process, with the openai SDK as client."""

from __future__ import annotations

import pytest

from tests.factories import wait_for_usage
from tests.fake_upstream import UNICODE_TAIL

pytestmark = pytest.mark.django_db(transaction=True)


def test_chat_completion_is_forwarded_and_recorded(client, tenant, fake_upstream):
    reply = client.chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "hello gateway"}],
    )
    completion = reply.parse()

    assert completion.choices[0].message.content == "echo: hello gateway"
    sent = fake_upstream.requests[-1]
    assert sent.body["model"] == "gpt-4o-mini"
    assert sent.headers["authorization"] == "Bearer sk-test-provider-key-0000"
    request_id = reply.headers["x-request-id"]
    record = wait_for_usage(request_id=request_id)
    assert record.organization_id == tenant.organization.pk
    assert record.api_key_id == tenant.api_key.pk
    assert (record.prompt_tokens, record.completion_tokens) == (2, 3)
    assert record.status_code == 200
    assert record.cost_usd > 0


def test_split_stream_arrives_intact(client, fake_upstream):
    stream = client.chat.completions.create(
        model="openai/fake-split",
        messages=[{"role": "user", "content": "split me"}],
        stream=True,
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)

    assert text == f"echo: split me {UNICODE_TAIL}"
    assert fake_upstream.requests[-1].body["stream_options"] == {"include_usage": True}
