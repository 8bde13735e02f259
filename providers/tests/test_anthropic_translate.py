from __future__ import annotations

import json
from typing import Any

import pytest

from providers.anthropic_translate import (
    StreamError,
    StreamTranslator,
    TranslationError,
    anthropic_error_to_openai,
    chat_to_messages_request,
    messages_to_chat_response,
)

MODEL = "claude-test-1"
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def translate(body: dict[str, Any], default_max_tokens: int = 1024) -> dict[str, Any]:
    return chat_to_messages_request(body, MODEL, default_max_tokens)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Look up the weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


# ---------------------------------------------------------------------------
# chat_to_messages_request
# ---------------------------------------------------------------------------


class TestRequestBasics:
    def test_minimal_request(self) -> None:
        assert translate({"model": "ignored", "messages": [user("Hi")]}) == {
            "model": MODEL,
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": [text_block("Hi")]}],
        }

    def test_system_and_developer_hoisted_and_joined(self) -> None:
        body = {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": [text_block("Use French.")]},
                user("Hi"),
            ]
        }
        out = translate(body)
        assert out["system"] == "Be brief.\n\nUse French."
        assert out["messages"] == [{"role": "user", "content": [text_block("Hi")]}]

    def test_empty_system_is_omitted(self) -> None:
        out = translate({"messages": [{"role": "system", "content": ""}, user("x")]})
        assert "system" not in out

    def test_sampling_and_misc_parameters(self) -> None:
        body = {
            "messages": [user("Hi")],
            "max_tokens": 50,
            "temperature": 0.3,
            "top_p": 0.9,
            "stop": ["END", "STOP"],
            "stream": True,
            "user": "user-42",
            "n": 1,
            "response_format": {"type": "text"},
        }
        assert translate(body) == {
            "model": MODEL,
            "max_tokens": 50,
            "messages": [{"role": "user", "content": [text_block("Hi")]}],
            "temperature": 0.3,
            "top_p": 0.9,
            "stop_sequences": ["END", "STOP"],
            "stream": True,
            "metadata": {"user_id": "user-42"},
        }

    def test_stop_string_becomes_list(self) -> None:
        out = translate({"messages": [user("Hi")], "stop": "###"})
        assert out["stop_sequences"] == ["###"]

    def test_stream_false_passes_through(self) -> None:
        assert translate({"messages": [user("Hi")], "stream": False})["stream"] is False

    def test_max_completion_tokens_wins_over_max_tokens(self) -> None:
        body = {"messages": [user("Hi")], "max_tokens": 10, "max_completion_tokens": 20}
        assert translate(body)["max_tokens"] == 20

    def test_default_max_tokens(self) -> None:
        assert translate({"messages": [user("Hi")]}, 4096)["max_tokens"] == 4096

    def test_body_is_not_mutated(self) -> None:
        body = {
            "messages": [user("a"), user("b")],
            "tools": [WEATHER_TOOL],
            "stop": ["x"],
        }
        snapshot = json.loads(json.dumps(body))
        translate(body)
        assert body == snapshot


class TestRequestContent:
    def test_multimodal_user_content(self) -> None:
        body = {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {
                            "type": "image_url",
                            "image_url": {
                                "url": f"data:image/png;base64,{PNG_B64}",
                                "detail": "high",
                            },
                        },
                    ],
                }
            ]
        }
        assert translate(body)["messages"] == [
            {
                "role": "user",
                "content": [
                    text_block("What is this?"),
                    {
                        "type": "image",
                        "source": {
                            "type": "base64",
                            "media_type": "image/png",
                            "data": PNG_B64,
                        },
                    },
                ],
            }
        ]

    def test_remote_image_url_rejected(self) -> None:
        body = {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image_url",
                            "image_url": {"url": "https://example.com/cat.png"},
                        }
                    ],
                }
            ]
        }
        with pytest.raises(TranslationError) as exc:
            translate(body)
        assert exc.value.param == "messages.[0].content.[0].image_url.url"
        assert "data:" in exc.value.message

    def test_unsupported_image_media_type_rejected(self) -> None:
        part = {"type": "image_url", "image_url": {"url": "data:image/bmp;base64,AAAA"}}
        with pytest.raises(TranslationError) as exc:
            translate({"messages": [{"role": "user", "content": [part]}]})
        assert exc.value.param == "messages.[0].content.[0].image_url.url"
        assert "image/bmp" in exc.value.message

    def test_unsupported_content_part_rejected(self) -> None:
        part = {"type": "input_audio", "input_audio": {"data": "AA", "format": "wav"}}
        with pytest.raises(TranslationError) as exc:
            translate({"messages": [{"role": "user", "content": [part]}]})
        assert exc.value.param == "messages.[0].content.[0].type"

    def test_empty_text_parts_dropped(self) -> None:
        content = [text_block(""), text_block("hello")]
        out = translate({"messages": [{"role": "user", "content": content}]})
        assert out["messages"] == [{"role": "user", "content": [text_block("hello")]}]

    def test_empty_message_rejected(self) -> None:
        with pytest.raises(TranslationError) as exc:
            translate({"messages": [user("")]})
        assert exc.value.param == "messages.[0].content"

    def test_unknown_role_rejected(self) -> None:
        body = {"messages": [{"role": "function", "name": "f", "content": "x"}]}
        with pytest.raises(TranslationError) as exc:
            translate(body)
        assert exc.value.param == "messages.[0].role"
        assert "'function'" in exc.value.message

    def test_only_system_messages_rejected(self) -> None:
        with pytest.raises(TranslationError) as exc:
            translate({"messages": [{"role": "system", "content": "x"}]})
        assert exc.value.param == "messages"

    def test_missing_messages_rejected(self) -> None:
        with pytest.raises(TranslationError) as exc:
            translate({})
        assert exc.value.param == "messages"

    def test_consecutive_same_role_messages_merged(self) -> None:
        body = {
            "messages": [
                user("one"),
                user("two"),
                {"role": "assistant", "content": "three"},
                {"role": "assistant", "content": [text_block("four")]},
                user("five"),
            ]
        }
        assert translate(body)["messages"] == [
            {"role": "user", "content": [text_block("one"), text_block("two")]},
            {"role": "assistant", "content": [text_block("three"), text_block("four")]},
            {"role": "user", "content": [text_block("five")]},
        ]


class TestRequestTools:
    def conversation(self) -> list[dict[str, Any]]:
        return [
            user("Weather in Paris and Rome?"),
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {
                            "name": "get_weather",
                            "arguments": '{"city": "Paris"}',
                        },
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {
                            "name": "get_weather",
                            "arguments": '{"city": "Rome"}',
                        },
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},
            {
                "role": "tool",
                "tool_call_id": "call_2",
                "content": [text_block("Rainy")],
            },
            user("Thanks"),
        ]

    def test_tool_conversation(self) -> None:
        out = translate({"messages": self.conversation(), "tools": [WEATHER_TOOL]})
        assert out["messages"] == [
            {"role": "user", "content": [text_block("Weather in Paris and Rome?")]},
            {
                "role": "assistant",
                "content": [
                    text_block("Checking."),
                    {
                        "type": "tool_use",
                        "id": "call_1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    },
                    {
                        "type": "tool_use",
                        "id": "call_2",
                        "name": "get_weather",
                        "input": {"city": "Rome"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "call_1",
                        "content": "Sunny",
                    },
                    {
                        "type": "tool_result",
                        "tool_use_id": "call_2",
                        "content": [text_block("Rainy")],
                    },
                    text_block("Thanks"),
                ],
            },
        ]
        assert out["tools"] == [
            {
                "name": "get_weather",
                "description": "Look up the weather",
                "input_schema": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            }
        ]
        assert "tool_choice" not in out

    def test_assistant_with_only_tool_calls(self) -> None:
        call = {
            "id": "call_9",
            "type": "function",
            "function": {"name": "noop", "arguments": ""},
        }
        body = {
            "messages": [
                user("go"),
                {"role": "assistant", "content": None, "tool_calls": [call]},
            ]
        }
        assert translate(body)["messages"][1] == {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "call_9", "name": "noop", "input": {}}
            ],
        }

    def test_invalid_tool_arguments_rejected(self) -> None:
        call = {
            "id": "c",
            "type": "function",
            "function": {"name": "f", "arguments": "{not json"},
        }
        body = {"messages": [user("go"), {"role": "assistant", "tool_calls": [call]}]}
        with pytest.raises(TranslationError) as exc:
            translate(body)
        assert exc.value.param == "messages.[1].tool_calls.[0].function.arguments"

    def test_non_object_tool_arguments_rejected(self) -> None:
        call = {
            "id": "c",
            "type": "function",
            "function": {"name": "f", "arguments": "[1]"},
        }
        body = {"messages": [user("go"), {"role": "assistant", "tool_calls": [call]}]}
        with pytest.raises(TranslationError):
            translate(body)

    def test_tool_message_without_id_rejected(self) -> None:
        body = {"messages": [user("go"), {"role": "tool", "content": "x"}]}
        with pytest.raises(TranslationError) as exc:
            translate(body)
        assert exc.value.param == "messages.[1].tool_call_id"

    def test_tool_without_parameters_gets_empty_schema(self) -> None:
        tool = {"type": "function", "function": {"name": "now"}}
        out = translate({"messages": [user("x")], "tools": [tool]})
        assert out["tools"] == [
            {"name": "now", "input_schema": {"type": "object", "properties": {}}}
        ]

    def test_non_function_tool_rejected(self) -> None:
        tool = {"type": "custom", "custom": {"name": "x"}}
        with pytest.raises(TranslationError) as exc:
            translate({"messages": [user("x")], "tools": [tool]})
        assert exc.value.param == "tools.[0].type"

    @pytest.mark.parametrize(
        ("choice", "expected"),
        [
            ("auto", {"type": "auto"}),
            ("required", {"type": "any"}),
            ("none", {"type": "none"}),
            (
                {"type": "function", "function": {"name": "get_weather"}},
                {"type": "tool", "name": "get_weather"},
            ),
        ],
    )
    def test_tool_choice(self, choice: Any, expected: dict[str, Any]) -> None:
        body = {"messages": [user("x")], "tools": [WEATHER_TOOL], "tool_choice": choice}
        assert translate(body)["tool_choice"] == expected

    @pytest.mark.parametrize(
        ("choice", "expected"),
        [
            ("auto", {"type": "auto", "disable_parallel_tool_use": True}),
            ("required", {"type": "any", "disable_parallel_tool_use": True}),
            ("none", {"type": "none"}),
            (None, {"type": "auto", "disable_parallel_tool_use": True}),
            (
                {"type": "function", "function": {"name": "get_weather"}},
                {
                    "type": "tool",
                    "name": "get_weather",
                    "disable_parallel_tool_use": True,
                },
            ),
        ],
    )
    def test_parallel_tool_calls_false(
        self, choice: Any, expected: dict[str, Any]
    ) -> None:
        body: dict[str, Any] = {
            "messages": [user("x")],
            "tools": [WEATHER_TOOL],
            "parallel_tool_calls": False,
        }
        if choice is not None:
            body["tool_choice"] = choice
        assert translate(body)["tool_choice"] == expected

    def test_parallel_tool_calls_true_adds_nothing(self) -> None:
        body = {
            "messages": [user("x")],
            "tools": [WEATHER_TOOL],
            "parallel_tool_calls": True,
        }
        assert "tool_choice" not in translate(body)

    def test_vacuous_tool_choice_without_tools_dropped(self) -> None:
        out = translate({"messages": [user("x")], "tool_choice": "none"})
        assert "tool_choice" not in out

    def test_required_tool_choice_without_tools_rejected(self) -> None:
        with pytest.raises(TranslationError) as exc:
            translate({"messages": [user("x")], "tool_choice": "required"})
        assert exc.value.param == "tool_choice"

    def test_unknown_tool_choice_rejected(self) -> None:
        body = {
            "messages": [user("x")],
            "tools": [WEATHER_TOOL],
            "tool_choice": {"type": "allowed_tools"},
        }
        with pytest.raises(TranslationError) as exc:
            translate(body)
        assert exc.value.param == "tool_choice"


class TestRequestRejections:
    def test_n_greater_than_one(self) -> None:
        with pytest.raises(TranslationError) as exc:
            translate({"messages": [user("x")], "n": 2})
        assert exc.value.param == "n"
        assert exc.value.message == str(exc.value)

    @pytest.mark.parametrize(
        "fmt",
        [
            {"type": "json_object"},
            {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}},
        ],
    )
    def test_response_format(self, fmt: dict[str, Any]) -> None:
        with pytest.raises(TranslationError) as exc:
            translate({"messages": [user("x")], "response_format": fmt})
        assert exc.value.param == "response_format"
        assert fmt["type"] in exc.value.message

    def test_temperature_above_anthropic_range(self) -> None:
        with pytest.raises(TranslationError) as exc:
            translate({"messages": [user("x")], "temperature": 1.5})
        assert exc.value.param == "temperature"

    def test_logprobs(self) -> None:
        with pytest.raises(TranslationError) as exc:
            translate({"messages": [user("x")], "logprobs": True})
        assert exc.value.param == "logprobs"


# ---------------------------------------------------------------------------
# messages_to_chat_response
# ---------------------------------------------------------------------------


def anthropic_message(
    content: list[dict[str, Any]], stop_reason: str, **usage: int
) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-upstream-name",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5, **usage},
    }


class TestResponse:
    def test_text_response(self) -> None:
        resp = anthropic_message(
            [text_block("Hello"), text_block(" world")], "end_turn"
        )
        assert messages_to_chat_response(resp, "my-alias", created=1700000000) == {
            "id": "chatcmpl-msg_01",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "my-alias",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello world"},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }

    def test_created_defaults_to_now(self) -> None:
        resp = anthropic_message([text_block("x")], "end_turn")
        created = messages_to_chat_response(resp, "m")["created"]
        assert isinstance(created, int)
        assert created > 1_600_000_000

    def test_tool_use_only(self) -> None:
        resp = anthropic_message(
            [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Zürich"},
                },
            ],
            "tool_use",
        )
        choice = messages_to_chat_response(resp, "m", created=1)["choices"][0]
        assert choice == {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {
                            "name": "get_weather",
                            "arguments": '{"city": "Zürich"}',
                        },
                    }
                ],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
        args = choice["message"]["tool_calls"][0]["function"]["arguments"]
        assert json.loads(args) == {"city": "Zürich"}

    def test_text_and_tool_use(self) -> None:
        resp = anthropic_message(
            [
                text_block("Let me check."),
                {"type": "tool_use", "id": "t1", "name": "a", "input": {}},
                {"type": "tool_use", "id": "t2", "name": "b", "input": {"x": 1}},
            ],
            "tool_use",
        )
        message = messages_to_chat_response(resp, "m", created=1)["choices"][0][
            "message"
        ]
        assert message["content"] == "Let me check."
        assert [c["id"] for c in message["tool_calls"]] == ["t1", "t2"]
        assert [c["function"]["arguments"] for c in message["tool_calls"]] == [
            "{}",
            '{"x": 1}',
        ]

    def test_empty_content(self) -> None:
        resp = anthropic_message([], "end_turn")
        message = messages_to_chat_response(resp, "m", created=1)["choices"][0][
            "message"
        ]
        assert message == {"role": "assistant", "content": ""}

    @pytest.mark.parametrize(
        ("stop_reason", "finish_reason"),
        [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("max_tokens", "length"),
            ("tool_use", "tool_calls"),
            ("refusal", "content_filter"),
        ],
    )
    def test_finish_reason(self, stop_reason: str, finish_reason: str) -> None:
        resp = anthropic_message([text_block("x")], stop_reason)
        choice = messages_to_chat_response(resp, "m", created=1)["choices"][0]
        assert choice["finish_reason"] == finish_reason

    def test_usage_includes_cache_tokens(self) -> None:
        resp = anthropic_message(
            [text_block("x")],
            "end_turn",
            cache_creation_input_tokens=100,
            cache_read_input_tokens=1000,
        )
        assert messages_to_chat_response(resp, "m", created=1)["usage"] == {
            "prompt_tokens": 1110,
            "completion_tokens": 5,
            "total_tokens": 1115,
        }

    def test_usage_tolerates_null_cache_fields(self) -> None:
        resp = anthropic_message([text_block("x")], "end_turn")
        resp["usage"]["cache_read_input_tokens"] = None
        assert messages_to_chat_response(resp, "m", created=1)["usage"] == {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
        }


# ---------------------------------------------------------------------------
# StreamTranslator
# ---------------------------------------------------------------------------


def message_start(input_tokens: int = 25, **extra: int) -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_stream",
            "type": "message",
            "role": "assistant",
            "model": "claude-upstream-name",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1, **extra},
        },
    }


def text_and_tool_events(
    text_pieces: list[str], json_pieces: list[str]
) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", message_start()),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    for piece in text_pieces:
        events.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                },
            )
        )
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {
                    "type": "tool_use",
                    "id": "toolu_abc",
                    "name": "get_weather",
                    "input": {},
                },
            },
        ),
    ]
    for piece in json_pieces:
        events.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 1,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                },
            )
        )
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 42},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


def feed_all(
    translator: StreamTranslator, events: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = []
    for name, data in events:
        chunks.extend(translator.feed(name, data))
    return chunks


class TestStream:
    def test_round_trip_text_and_tool_use(self) -> None:
        text_pieces = ["Let me ", "check the ", "weather… ☀"]
        json_pieces = ["", '{"ci', 'ty": "Par', 'is", "unit', '": "c"}']
        translator = StreamTranslator("my-alias", include_usage=True, created=7)
        chunks = feed_all(translator, text_and_tool_events(text_pieces, json_pieces))

        assert {c["id"] for c in chunks} == {"chatcmpl-msg_stream"}
        assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
        assert {c["model"] for c in chunks} == {"my-alias"}
        assert {c["created"] for c in chunks} == {7}

        body, final = chunks[:-1], chunks[-1]
        assert body[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
        assert all("role" not in c["choices"][0]["delta"] for c in body[1:])

        deltas = [c["choices"][0]["delta"] for c in body]
        text = "".join(d.get("content") or "" for d in deltas)
        assert text == "".join(text_pieces)

        calls = [tc for d in deltas for tc in d.get("tool_calls", [])]
        assert calls[0] == {
            "index": 0,
            "id": "toolu_abc",
            "type": "function",
            "function": {"name": "get_weather", "arguments": ""},
        }
        assert all(tc["index"] == 0 for tc in calls)
        arguments = "".join(tc["function"]["arguments"] for tc in calls)
        assert arguments == "".join(json_pieces)
        assert json.loads(arguments) == {"city": "Paris", "unit": "c"}

        finishes = [c["choices"][0]["finish_reason"] for c in body]
        assert finishes[-1] == "tool_calls"
        assert set(finishes[:-1]) == {None}
        assert body[-1]["choices"][0]["delta"] == {}
        assert all(c["usage"] is None for c in body)

        assert final == {
            "id": "chatcmpl-msg_stream",
            "object": "chat.completion.chunk",
            "created": 7,
            "model": "my-alias",
            "choices": [],
            "usage": {"prompt_tokens": 25, "completion_tokens": 42, "total_tokens": 67},
        }

    def test_exact_chunk_sequence(self) -> None:
        translator = StreamTranslator("m", include_usage=False, created=1)
        chunks = feed_all(translator, text_and_tool_events(["Hi"], ['{"a":1}']))

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-msg_stream",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "m",
                "choices": [
                    {
                        "index": 0,
                        "delta": delta,
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
            }

        assert chunks == [
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Hi"}),
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "toolu_abc",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        }
                    ]
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":1}'}}]}),
            chunk({}, "tool_calls"),
        ]
        assert translator.usage == {
            "prompt_tokens": 25,
            "completion_tokens": 42,
            "total_tokens": 67,
        }

    def test_multiple_tool_blocks_are_indexed_from_zero(self) -> None:
        translator = StreamTranslator("m", include_usage=False, created=1)
        translator.feed("message_start", message_start())
        starts = []
        for block_index, tool_id in [(1, "t_a"), (2, "t_b")]:
            chunks = translator.feed(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": block_index,
                    "content_block": {
                        "type": "tool_use",
                        "id": tool_id,
                        "name": "f",
                        "input": {},
                    },
                },
            )
            starts.append(chunks[0]["choices"][0]["delta"]["tool_calls"][0])
        assert [(s["index"], s["id"]) for s in starts] == [(0, "t_a"), (1, "t_b")]

        chunks = translator.feed(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 2,
                "delta": {"type": "input_json_delta", "partial_json": "{}"},
            },
        )
        assert chunks[0]["choices"][0]["delta"] == {
            "tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]
        }

    def test_tool_without_arguments_gets_empty_object(self) -> None:
        translator = StreamTranslator("m", include_usage=False, created=1)
        chunks = feed_all(translator, text_and_tool_events(["x"], [""]))
        calls = [
            tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls", [])
        ]
        assert "".join(tc["function"]["arguments"] for tc in calls) == "{}"

    def test_no_usage_chunk_without_include_usage(self) -> None:
        translator = StreamTranslator("m", include_usage=False, created=1)
        translator.feed("message_start", message_start())
        assert translator.feed("message_stop", {"type": "message_stop"}) == []

    def test_ping_and_unknown_events_produce_nothing(self) -> None:
        translator = StreamTranslator("m", include_usage=True, created=1)
        assert translator.feed("ping", {"type": "ping"}) == []
        translator.feed("message_start", message_start())
        assert translator.feed("ping", {"type": "ping"}) == []
        assert translator.feed("some_future_event", {"type": "x"}) == []

    def test_thinking_deltas_are_skipped(self) -> None:
        translator = StreamTranslator("m", include_usage=False, created=1)
        translator.feed("message_start", message_start())
        start = {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": ""},
        }
        delta = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "hmm"},
        }
        stop = {"type": "content_block_stop", "index": 0}
        assert translator.feed("content_block_start", start) == []
        assert translator.feed("content_block_delta", delta) == []
        assert translator.feed("content_block_stop", stop) == []

    def test_event_name_falls_back_to_data_type(self) -> None:
        translator = StreamTranslator("m", include_usage=False, created=1)
        chunks = translator.feed("", message_start())
        assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"

    @pytest.mark.parametrize(
        ("stop_reason", "finish_reason"),
        [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("max_tokens", "length"),
            ("tool_use", "tool_calls"),
        ],
    )
    def test_finish_reason(self, stop_reason: str, finish_reason: str) -> None:
        translator = StreamTranslator("m", include_usage=False, created=1)
        translator.feed("message_start", message_start())
        chunks = translator.feed(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": 3},
            },
        )
        assert len(chunks) == 1
        assert chunks[0]["choices"][0]["finish_reason"] == finish_reason

    def test_usage_none_before_message_start(self) -> None:
        assert StreamTranslator("m", include_usage=False).usage is None

    def test_usage_with_cache_and_cumulative_delta(self) -> None:
        translator = StreamTranslator("m", include_usage=False, created=1)
        translator.feed(
            "message_start",
            message_start(
                5, cache_creation_input_tokens=10, cache_read_input_tokens=20
            ),
        )
        assert translator.usage == {
            "prompt_tokens": 35,
            "completion_tokens": 1,
            "total_tokens": 36,
        }
        translator.feed(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {
                    "output_tokens": 9,
                    "input_tokens": 6,
                    "cache_read_input_tokens": None,
                },
            },
        )
        assert translator.usage == {
            "prompt_tokens": 36,
            "completion_tokens": 9,
            "total_tokens": 45,
        }

    def test_error_event_raises(self) -> None:
        translator = StreamTranslator("m", include_usage=False, created=1)
        translator.feed("message_start", message_start())
        with pytest.raises(StreamError) as exc:
            translator.feed(
                "error",
                {
                    "type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"},
                },
            )
        assert exc.value.message == "Overloaded"
        assert exc.value.type == "overloaded_error"

    def test_content_before_message_start_raises(self) -> None:
        translator = StreamTranslator("m", include_usage=False, created=1)
        with pytest.raises(StreamError):
            translator.feed(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": "x"},
                },
            )


# ---------------------------------------------------------------------------
# anthropic_error_to_openai
# ---------------------------------------------------------------------------


def anthropic_error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


class TestErrors:
    @pytest.mark.parametrize(
        ("status", "kind", "expected_type", "expected_code"),
        [
            (400, "invalid_request_error", "invalid_request_error", None),
            (401, "authentication_error", "invalid_request_error", "invalid_api_key"),
            (429, "rate_limit_error", "rate_limit_error", "rate_limit_exceeded"),
            (529, "overloaded_error", "server_error", None),
            (500, "api_error", "server_error", None),
        ],
    )
    def test_mapping(
        self,
        status: int,
        kind: str,
        expected_type: str,
        expected_code: str | None,
    ) -> None:
        out = anthropic_error_to_openai(status, anthropic_error(kind, "boom"))
        assert out == {
            "error": {
                "message": "boom",
                "type": expected_type,
                "param": None,
                "code": expected_code,
            }
        }

    def test_prompt_too_long(self) -> None:
        body = anthropic_error(
            "invalid_request_error",
            "prompt is too long: 210000 tokens > 200000 maximum",
        )
        assert anthropic_error_to_openai(400, body) == {
            "error": {
                "message": "prompt is too long: 210000 tokens > 200000 maximum",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        }

    @pytest.mark.parametrize(
        ("status", "expected_type"),
        [(400, "invalid_request_error"), (502, "server_error")],
    )
    def test_missing_body(self, status: int, expected_type: str) -> None:
        out = anthropic_error_to_openai(status, None)
        assert out == {
            "error": {
                "message": f"Upstream provider returned HTTP {status}.",
                "type": expected_type,
                "param": None,
                "code": None,
            }
        }

    def test_unknown_error_type_falls_back_on_status(self) -> None:
        out = anthropic_error_to_openai(503, anthropic_error("novel_error", "hm"))
        assert out["error"]["type"] == "server_error"
        out = anthropic_error_to_openai(422, {"unexpected": "shape"})
        assert out["error"]["type"] == "invalid_request_error"


def test_error_fields_that_are_not_strings_still_map_to_an_openai_error():
    body = {"type": "error", "error": {"type": {"k": 1}, "message": ["bad", 42]}}

    error = anthropic_error_to_openai(400, body)["error"]

    assert error["message"] == "['bad', 42]"
    assert error["type"] == "invalid_request_error"
