"""Anthropic models behind the OpenAI API: translation both ways, usage, errors."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import openai
import pytest

from tests.factories import make_tenant, new_request_id, wait_for_usage

pytestmark = pytest.mark.django_db(transaction=True)

MODEL = "anthropic/claude-haiku-4-5"
PROVIDER_KEY = "sk-ant-test-provider-key-1234"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
# "You are terse." and "hello from anthropic" make 6 prompt words for the fake;
# "echo: hello from anthropic" makes 4 completion words.
MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "hello from anthropic"},
]
# claude-haiku-4-5 costs 1 $ per million input tokens and 5 $ per million output.
COST_6_IN_4_OUT = Decimal("0.0000260000")


@pytest.fixture
def tenant(fake_upstream):
    return make_tenant(
        upstream_url=fake_upstream.base_url + "/v1",
        provider="anthropic",
        provider_key=PROVIDER_KEY,
    )


# --- requests as Anthropic receives them ----------------------------------------


def test_request_is_translated_to_the_messages_api(client, fake_upstream):
    client.chat.completions.create(model=MODEL, messages=MESSAGES)

    sent = fake_upstream.requests[-1]
    assert sent.method == "POST"
    assert sent.path == "/v1/messages"
    assert sent.body == {
        "model": "claude-haiku-4-5",
        "max_tokens": 4096,
        "stream": False,
        "system": "You are terse.",
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "hello from anthropic"}],
            }
        ],
    }


def test_provider_key_goes_in_x_api_key_with_a_version(client, tenant, fake_upstream):
    client.chat.completions.create(model=MODEL, messages=MESSAGES)

    headers = fake_upstream.requests[-1].headers
    assert headers["x-api-key"] == PROVIDER_KEY
    assert headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in headers
    assert tenant.key not in json.dumps(headers)


# --- answers -------------------------------------------------------------------------


def test_text_answer_comes_back_as_a_chat_completion(client):
    request_id = new_request_id()
    completion = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, extra_headers={"x-request-id": request_id}
    )

    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "echo: hello from anthropic"
    assert completion.choices[0].finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (
        6,
        4,
    )
    record = wait_for_usage(request_id=request_id)
    assert (record.provider, record.model) == ("anthropic", MODEL)
    assert (record.prompt_tokens, record.completion_tokens) == (6, 4)
    assert record.cost_usd == COST_6_IN_4_OUT
    assert (record.status_code, record.stream) == (200, False)


def test_streamed_text_answer_and_usage(client):
    request_id = new_request_id()
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
            extra_headers={"x-request-id": request_id},
        )
    )

    *content, last = chunks
    text = "".join(chunk.choices[0].delta.content or "" for chunk in content)
    assert text == "echo: hello from anthropic"
    assert content[0].choices[0].delta.role == "assistant"
    assert content[-1].choices[0].finish_reason == "stop"
    assert {chunk.model for chunk in chunks} == {MODEL}
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (6, 4)
    record = wait_for_usage(request_id=request_id)
    assert (record.prompt_tokens, record.completion_tokens) == (6, 4)
    assert record.cost_usd == COST_6_IN_4_OUT
    assert (record.status_code, record.stream) == (200, True)
    assert record.ttft_ms is not None


def test_stream_without_include_usage_still_records_usage(client):
    request_id = new_request_id()
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            stream=True,
            extra_headers={"x-request-id": request_id},
        )
    )

    assert all(chunk.choices for chunk in chunks)
    assert [c for c in chunks if "usage" in c.to_dict()] == []
    record = wait_for_usage(request_id=request_id)
    assert (record.prompt_tokens, record.completion_tokens) == (6, 4)


def test_tool_call_comes_back_as_openai_tool_calls(client, fake_upstream):
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "weather in Oslo?"}],
        tools=[WEATHER_TOOL],
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.id.startswith("toolu_")
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"echo": "weather in Oslo?"}
    assert fake_upstream.requests[-1].body["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "input_schema": WEATHER_TOOL["function"]["parameters"],
        }
    ]


def test_streamed_tool_call_arrives_intact(client):
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "weather in Oslo?"}],
            tools=[WEATHER_TOOL],
            stream=True,
        )
    )

    calls = [
        call for chunk in chunks for call in chunk.choices[0].delta.tool_calls or []
    ]
    assert calls[0].id.startswith("toolu_")
    assert calls[0].function.name == "get_weather"
    assert {call.index for call in calls} == {0}
    arguments = "".join(call.function.arguments or "" for call in calls)
    assert json.loads(arguments) == {"echo": "weather in Oslo?"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


# --- errors ------------------------------------------------------------------------


def test_anthropic_rate_limit_is_a_429_with_retry_after(client):
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model="anthropic/fake-error-429", messages=MESSAGES
        )

    assert caught.value.status_code == 429
    assert caught.value.code == "provider_rate_limited"
    assert caught.value.type == "rate_limit_error"
    assert caught.value.response.headers["retry-after"] == "7"
    assert "exceeded your rate limit" in caught.value.message


def test_anthropic_prompt_too_long_is_context_length_exceeded(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="anthropic/fake-error-400-context", messages=MESSAGES
        )

    assert caught.value.status_code == 400
    assert caught.value.code == "context_length_exceeded"
    assert caught.value.param == "messages"
    assert caught.value.type == "invalid_request_error"
    assert "prompt is too long" in caught.value.message


def test_anthropic_error_before_a_stream_is_a_plain_json_error(client):
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model="anthropic/fake-error-429", messages=MESSAGES, stream=True
        )

    assert caught.value.response.headers["content-type"] == "application/json"
    assert caught.value.code == "provider_rate_limited"


def test_anthropic_refusing_the_key_is_a_502(client):
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(
            model="anthropic/fake-error-401", messages=MESSAGES
        )

    assert caught.value.status_code == 502
    assert caught.value.code == "upstream_authentication_failed"


def test_request_anthropic_cannot_express_is_a_400_naming_the_param(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=MODEL, messages=MESSAGES, response_format={"type": "json_object"}
        )

    assert caught.value.param == "response_format"


def test_malformed_content_never_leaks_a_traceback(gateway, tenant):
    response = httpx.post(
        gateway.v1 + "/chat/completions",
        headers={"authorization": f"Bearer {tenant.key}"},
        json={"model": MODEL, "messages": [{"role": "user", "content": 42}]},
        timeout=10,
    )

    assert response.status_code >= 400
    assert response.headers["content-type"] == "application/json"
    assert list(response.json()) == ["error"]
    for leak in ("Traceback", "TypeError", "not iterable", ".py"):
        assert leak not in response.text


@pytest.mark.parametrize(
    "content",
    [["a bare string, not a part"], 42, [{"type": "text", "text": "ok"}, None]],
    ids=["string-part", "number", "null-part"],
)
def test_malformed_user_content_is_a_400_not_a_server_error(client, content):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": content}]
        )

    assert caught.value.type == "invalid_request_error"
    assert caught.value.param.startswith("messages")


def test_tool_that_is_not_an_object_is_a_400_not_a_server_error(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=MODEL, messages=MESSAGES, tools=["get_weather"]
        )

    assert caught.value.param.startswith("tools")
