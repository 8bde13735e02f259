"""Streaming, tool calls and parameter pass-through, with the openai SDK as client."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from tests.factories import make_tenant, new_request_id, wait_for_usage

pytestmark = pytest.mark.django_db(transaction=True)

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
# A one-pixel PNG, as clients send images inline.
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR4"
    "2mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def stream_chat(client, model: str, text: str, request_id: str, **params):
    return client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": text}],
        stream=True,
        extra_headers={"x-request-id": request_id},
        **params,
    )


# --- usage in streams ---------------------------------------------------------


def test_stream_with_include_usage_ends_with_a_usage_chunk(client):
    request_id = new_request_id()
    chunks = list(
        stream_chat(
            client,
            "openai/fake-chat",
            "count these words",
            request_id,
            stream_options={"include_usage": True},
        )
    )

    *content, last = chunks
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (3, 4)
    assert last.usage.total_tokens == 7
    assert all(chunk.usage is None for chunk in content)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in content)
    assert text == "echo: count these words"


def test_stream_without_include_usage_has_no_usage_anywhere(client):
    chunks = list(
        stream_chat(client, "openai/fake-chat", "count these words", new_request_id())
    )

    assert all(chunk.choices for chunk in chunks)
    assert [c for c in chunks if "usage" in c.to_dict()] == []
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == "echo: count these words"
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize("include_usage", [True, False])
def test_streamed_usage_is_recorded_whether_or_not_asked(client, tenant, include_usage):
    request_id = new_request_id()
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    for _ in stream_chat(
        client, "openai/gpt-4o-mini", "count these words", request_id, **options
    ):
        pass

    record = wait_for_usage(request_id=request_id)
    assert record.organization_id == tenant.organization.pk
    assert record.endpoint == "chat/completions"
    assert (record.model, record.provider) == ("openai/gpt-4o-mini", "openai")
    assert record.stream is True
    assert record.status_code == 200
    assert record.error_code == ""
    assert (record.prompt_tokens, record.completion_tokens) == (3, 4)
    # gpt-4o-mini: 0.15 $ per million prompt tokens, 0.60 $ per million completion.
    assert str(record.cost_usd) == "0.0000028500"
    assert record.ttft_ms is not None
    assert 0 <= record.ttft_ms <= record.latency_ms


def test_raw_stream_is_server_sent_events_ending_with_done(gateway, tenant):
    with httpx.stream(
        "POST",
        gateway.v1 + "/chat/completions",
        headers={"authorization": f"Bearer {tenant.key}", "x-request-id": "raw-sse-1"},
        json={
            "model": "openai/fake-chat",
            "messages": [{"role": "user", "content": "raw bytes"}],
            "stream": True,
        },
        timeout=10,
    ) as response:
        raw = response.read()

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-request-id"] == "raw-sse-1"
    assert raw.endswith(b"\n\ndata: [DONE]\n\n")
    events = raw.split(b"\n\n")
    assert events[-2:] == [b"data: [DONE]", b""]
    payloads = [json.loads(event.removeprefix(b"data: ")) for event in events[:-2]]
    assert all(event.startswith(b"data: {") for event in events[:-2])
    assert {payload["object"] for payload in payloads} == {"chat.completion.chunk"}
    text = "".join(p["choices"][0]["delta"].get("content") or "" for p in payloads)
    assert text == "echo: raw bytes"


# --- tool calls ---------------------------------------------------------------


def test_tool_call_arrives_intact_without_streaming(client):
    completion = client.chat.completions.create(
        model="openai/fake-chat",
        messages=[{"role": "user", "content": "weather in Paris?"}],
        tools=[WEATHER_TOOL],
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.type == "function"
    assert call.id.startswith("call_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"echo": "weather in Paris?"}


def test_tool_call_arrives_intact_when_streamed(client):
    chunks = list(
        stream_chat(
            client,
            "openai/fake-chat",
            "weather in Paris?",
            new_request_id(),
            tools=[WEATHER_TOOL],
        )
    )

    calls = [
        call for chunk in chunks for call in chunk.choices[0].delta.tool_calls or []
    ]
    assert {call.index for call in calls} == {0}
    assert calls[0].id.startswith("call_")
    assert calls[0].function.name == "get_weather"
    assert [call.id for call in calls[1:] if call.id] == []
    arguments = "".join(call.function.arguments or "" for call in calls)
    assert json.loads(arguments) == {"echo": "weather in Paris?"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


# --- parameters pass through unchanged ----------------------------------------


def test_request_parameters_reach_the_provider_unchanged(client, tenant, fake_upstream):
    params = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "weather in Paris?"},
        ],
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                "strict": True,
            },
        },
        "n": 2,
        "stop": ["\n\n", "END"],
        "seed": 1234,
        "temperature": 0.25,
        "max_tokens": 50,
    }
    client.chat.completions.create(model="openai/gpt-4o-mini", **params)

    sent = fake_upstream.requests[-1]
    assert sent.body == {**params, "model": "gpt-4o-mini"}
    assert sent.headers["authorization"] == "Bearer sk-test-provider-key-0000"
    assert tenant.key not in json.dumps(sent.headers)


def test_stream_options_reach_the_provider_unchanged(client, fake_upstream):
    options = {"include_usage": True, "include_obfuscation": False}
    for _ in stream_chat(
        client,
        "openai/fake-chat",
        "options",
        new_request_id(),
        stream_options=options,
        stop="END",
    ):
        pass

    assert fake_upstream.requests[-1].body == {
        "model": "fake-chat",
        "messages": [{"role": "user", "content": "options"}],
        "stream": True,
        "stream_options": options,
        "stop": "END",
    }


def test_multimodal_content_parts_reach_the_provider_unchanged(client, fake_upstream):
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": PIXEL, "detail": "low"}},
                {"type": "text", "text": "Answer  in\none word."},
            ],
        }
    ]
    completion = client.chat.completions.create(
        model="openai/fake-chat", messages=messages
    )

    assert fake_upstream.requests[-1].body == {
        "model": "fake-chat",
        "messages": messages,
    }
    assert completion.choices[0].message.content == (
        "echo: What is in this picture? Answer  in\none word."
    )


# --- failures in the middle of a stream ---------------------------------------


def test_stream_dropped_by_the_provider_ends_with_an_error_event(client):
    request_id = new_request_id()
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream_chat(
            client, "openai/fake-drop-stream", "drop me", request_id
        ):
            received.append(chunk.choices[0].delta.content or "")

    assert "".join(received) == "echo: drop "
    assert caught.value.code == "upstream_stream_broken"
    assert caught.value.type == "upstream_error"
    record = wait_for_usage(request_id=request_id)
    assert record.stream is True
    assert record.status_code == 502
    assert record.error_code == "upstream_stream_broken"
    assert record.ttft_ms is not None


def test_stream_dropped_by_the_provider_has_no_done_marker(gateway, tenant):
    with httpx.stream(
        "POST",
        gateway.v1 + "/chat/completions",
        headers={"authorization": f"Bearer {tenant.key}"},
        json={
            "model": "openai/fake-drop-stream",
            "messages": [{"role": "user", "content": "drop me"}],
            "stream": True,
        },
        timeout=10,
    ) as response:
        raw = response.read()

    last = raw.split(b"\n\n")[-2]
    assert b"[DONE]" not in raw
    assert json.loads(last.removeprefix(b"data: "))["error"]["code"] == (
        "upstream_stream_broken"
    )


def test_stream_that_stalls_ends_with_a_timeout_error_event(client):
    request_id = new_request_id()
    received = []
    started = time.monotonic()
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream_chat(
            client, "openai/fake-stall-stream", "stall me", request_id
        ):
            received.append(chunk.choices[0].delta.content or "")

    assert time.monotonic() - started < 6
    assert "".join(received) == "echo: "
    assert caught.value.code == "upstream_timeout"
    record = wait_for_usage(request_id=request_id)
    assert record.status_code == 504
    assert record.error_code == "upstream_timeout"


def test_client_that_disconnects_mid_stream_is_recorded_and_upstream_closed(
    client, fake_upstream
):
    request_id = new_request_id()
    before = fake_upstream.disconnects
    stream = stream_chat(client, "openai/fake-slow-stream", "slow", request_id)
    first, second = next(stream), next(stream)
    stream.close()

    assert first.choices[0].delta.content == "echo: "
    assert second.choices[0].delta.content == "slow "
    assert fake_upstream.wait_for_disconnects(before + 1, timeout=5)
    record = wait_for_usage(request_id=request_id)
    assert record.status_code == 499
    assert record.error_code == "client_disconnected"
    assert record.stream is True


def test_client_that_gives_up_before_the_answer_is_recorded_and_upstream_closed(
    gateway, tenant, fake_upstream
):
    request_id = new_request_id()
    before = fake_upstream.disconnects
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            gateway.v1 + "/chat/completions",
            headers={
                "authorization": f"Bearer {tenant.key}",
                "x-request-id": request_id,
            },
            json={
                "model": "openai/fake-stall",
                "messages": [{"role": "user", "content": "x"}],
            },
            timeout=0.5,
        )

    assert fake_upstream.wait_for_disconnects(before + 1, timeout=5)
    record = wait_for_usage(request_id=request_id)
    assert (record.status_code, record.error_code) == (499, "client_disconnected")
    assert record.stream is False


# --- the built-in demo provider -----------------------------------------------


def test_demo_echo_streams_back_the_exact_text_without_a_credential(gateway):
    tenant = make_tenant()
    client = openai.OpenAI(base_url=gateway.v1, api_key=tenant.key, max_retries=0)
    text = "first line\nsecond  line with  double spaces\n\n  indented\ttab "
    request_id = new_request_id()

    chunks = list(stream_chat(client, "demo/echo", text, request_id))

    assert "".join(c.choices[0].delta.content or "" for c in chunks) == text
    assert chunks[-1].choices[0].finish_reason == "stop"
    record = wait_for_usage(request_id=request_id)
    assert (record.provider, record.status_code, record.stream) == ("demo", 200, True)


def test_demo_echo_usage_costs_zero_not_unknown(gateway):
    tenant = make_tenant()
    client = openai.OpenAI(base_url=gateway.v1, api_key=tenant.key, max_retries=0)
    request_id = new_request_id()

    client.chat.completions.create(
        model="demo/echo",
        messages=[{"role": "user", "content": "free"}],
        extra_headers={"x-request-id": request_id},
    )

    assert wait_for_usage(request_id=request_id).cost_usd == 0
