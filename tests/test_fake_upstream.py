"""Quick checks of the fake model provider itself (no Django needed)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.fake_upstream import UNICODE_TAIL, FakeUpstream, main

USER = [{"role": "user", "content": "hello world"}]


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


@pytest.fixture
def client(upstream: FakeUpstream) -> Iterator[httpx.Client]:
    upstream.clear()
    with httpx.Client(base_url=upstream.base_url, timeout=5, trust_env=False) as c:
        yield c


def sse_events(raw: bytes) -> list[tuple[str | None, str]]:
    """(event name, data) pairs of an SSE body."""
    events = []
    for block in raw.decode().split("\n\n"):
        if block:
            fields = dict(line.split(": ", 1) for line in block.split("\n"))
            events.append((fields.get("event"), fields["data"]))
    return events


def chat(model: str, **extra: object) -> dict[str, object]:
    return {"model": model, "messages": USER, **extra}


def stream_body(client: httpx.Client, path: str, payload: dict[str, object]) -> bytes:
    with client.stream("POST", path, json=payload) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        return response.read()


def openai_text(raw: bytes) -> str:
    chunks = [json.loads(data) for _, data in sse_events(raw) if data != "[DONE]"]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    return "".join(d.get("content") or "" for d in deltas)


def test_chat_completion_json_and_recording(client: httpx.Client, upstream) -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "hi"},
                {"type": "text", "text": "there"},
            ],
        },
    ]
    response = client.post(
        "/openai/v1/chat/completions",
        json={"model": "gpt-x", "messages": messages},
        headers={"Authorization": "Bearer sk-test"},
    )
    body = response.json()
    assert response.status_code == 200
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-x"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "echo: hi there",
        "refusal": None,
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == {
        "prompt_tokens": 4,
        "completion_tokens": 3,
        "total_tokens": 7,
    }
    [request] = upstream.requests
    assert request.path == "/openai/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["messages"] == messages


def test_chat_stream_with_usage(client: httpx.Client) -> None:
    options = {"include_usage": True}
    raw = stream_body(
        client, "/v1/chat/completions", chat("m", stream=True, stream_options=options)
    )
    events = sse_events(raw)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 3
    assert openai_text(raw) == "echo: hello world"


def test_chat_stream_without_usage(client: httpx.Client) -> None:
    raw = stream_body(client, "/v1/chat/completions", chat("m", stream=True))
    chunks = [json.loads(data) for _, data in sse_events(raw)[:-1]]
    assert all(chunk["choices"] and "usage" not in chunk for chunk in chunks)


def test_tool_call_json_and_stream(client: httpx.Client) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
    body = client.post("/v1/chat/completions", json=chat("m", tools=tools)).json()
    call = body["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "lookup"
    assert json.loads(call["function"]["arguments"]) == {"echo": "hello world"}
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    raw = stream_body(
        client, "/v1/chat/completions", chat("m", tools=tools, stream=True)
    )
    chunks = [json.loads(data) for _, data in sse_events(raw)[:-1]]
    calls = [c["choices"][0]["delta"].get("tool_calls", [{}])[0] for c in chunks]
    assert calls[0]["function"]["name"] == "lookup" and calls[0]["id"]
    arguments = "".join(c.get("function", {}).get("arguments", "") for c in calls)
    assert json.loads(arguments) == {"echo": "hello world"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_split_stream_reassembles_exactly(client: httpx.Client) -> None:
    with client.stream(
        "POST", "/v1/chat/completions", json=chat("fake-split", stream=True)
    ) as response:
        reads = list(response.iter_raw())
    raw = b"".join(reads)
    assert len(reads) > len(sse_events(raw)) * 2
    assert any(read.endswith(b"\n") and not read.endswith(b"\n\n") for read in reads)
    with pytest.raises(UnicodeDecodeError):
        for read in reads:
            read.decode()
    assert openai_text(raw) == f"echo: hello world {UNICODE_TAIL}"


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("fake-error-400-context", 400, "context_length_exceeded"),
        ("fake-error-429", 429, "rate_limit_exceeded"),
        ("fake-error-500", 500, None),
        ("fake-error-401", 401, "invalid_api_key"),
    ],
)
def test_openai_errors(client: httpx.Client, model: str, status: int, code) -> None:
    response = client.post("/v1/chat/completions", json=chat(model, stream=True))
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.headers.get("retry-after") == ("7" if status == 429 else None)


def test_anthropic_errors_and_garbage(client: httpx.Client) -> None:
    response = client.post("/v1/messages", json=chat("fake-error-400-context"))
    assert response.status_code == 400
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "invalid_request_error"
    response = client.post("/v1/messages", json=chat("fake-error-429"))
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert response.headers["retry-after"] == "7"
    response = client.post("/v1/chat/completions", json=chat("fake-garbage"))
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_anthropic_message_json(client: httpx.Client) -> None:
    payload = chat("claude-x", system="be brief", max_tokens=10)
    body = client.post("/anthropic/v1/messages", json=payload).json()
    assert body["type"] == "message" and body["model"] == "claude-x"
    assert body["content"] == [{"type": "text", "text": "echo: hello world"}]
    assert body["stop_reason"] == "end_turn"
    assert body["usage"] == {"input_tokens": 4, "output_tokens": 3}
    tools = [{"name": "lookup", "input_schema": {"type": "object"}}]
    body = client.post("/v1/messages", json=chat("c", tools=tools)).json()
    assert body["content"][0]["type"] == "tool_use"
    assert body["content"][0]["input"] == {"echo": "hello world"}
    assert body["stop_reason"] == "tool_use"


def test_anthropic_stream_event_order(client: httpx.Client) -> None:
    events = sse_events(stream_body(client, "/v1/messages", chat("c", stream=True)))
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 3,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    data = [json.loads(d) for _, d in events]
    assert data[0]["message"]["usage"]["input_tokens"] == 2
    assert "".join(d["delta"]["text"] for d in data[3:6]) == "echo: hello world"
    assert data[-2]["delta"]["stop_reason"] == "end_turn"
    assert data[-2]["usage"]["output_tokens"] == 3


def test_anthropic_tool_stream(client: httpx.Client) -> None:
    tools = [{"name": "lookup", "input_schema": {"type": "object"}}]
    payload = chat("c", stream=True, tools=tools)
    data = [
        json.loads(d)
        for _, d in sse_events(stream_body(client, "/v1/messages", payload))
    ]
    assert data[1]["content_block"]["type"] == "tool_use"
    deltas = [d["delta"] for d in data if d["type"] == "content_block_delta"]
    partial = "".join(delta["partial_json"] for delta in deltas)
    assert json.loads(partial) == {"echo": "hello world"}
    assert data[-2]["delta"]["stop_reason"] == "tool_use"


def test_embeddings_models_health(client: httpx.Client) -> None:
    payload = {"model": "emb", "input": ["one two", "three"]}
    body = client.post("/v1/embeddings", json=payload).json()
    assert [item["index"] for item in body["data"]] == [0, 1]
    assert all(len(item["embedding"]) == 8 for item in body["data"])
    assert body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    assert client.get("/v1/models").json()["object"] == "list"
    assert client.get("/health").status_code == 200


def test_disconnect_is_counted(client: httpx.Client, upstream) -> None:
    with client.stream(
        "POST", "/v1/chat/completions", json=chat("fake-slow-stream", stream=True)
    ) as response:
        next(response.iter_raw())
    assert upstream.wait_for_disconnects(1, timeout=2)


def test_stall_times_out_and_counts_disconnect(client: httpx.Client, upstream) -> None:
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/chat/completions", json=chat("fake-stall"), timeout=0.2)
    assert upstream.wait_for_disconnects(1, timeout=2)


def test_drops(client: httpx.Client, upstream) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v1/chat/completions", json=chat("fake-drop"))
    payload = chat("fake-drop-stream", stream=True)
    received: list[bytes] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", "/v1/chat/completions", json=payload) as response,
    ):
        received.extend(response.iter_raw())  # keeps what arrived before the drop
    assert sse_events(b"".join(received))[1][1].count("chat.completion.chunk") == 1
    assert b"[DONE]" not in b"".join(received)
    assert upstream.disconnects == 0


def test_keep_alive_reuses_connection(client: httpx.Client, upstream) -> None:
    client.get("/health")
    client.get("/health")
    first, second = upstream.requests
    assert first.connection == second.connection


def test_cli_refuses_other_hosts() -> None:
    with pytest.raises(SystemExit):
        main(["--host", "0.0.0.0"])
