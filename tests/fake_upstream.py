"""Fake OpenAI- and Anthropic-compatible model provider for Warden's tests.

A minimal HTTP/1.1 server (keep-alive, chunked streaming) built on asyncio only.
Replies echo the last user message; the request's ``model`` picks a behaviour
(errors, stalls, dropped connections, split writes...), see ``BEHAVIOURS``.

In tests::

    with FakeUpstream() as upstream:
        httpx.post(upstream.base_url + "/v1/chat/completions", json=payload)
        assert upstream.requests[-1].body["model"] == "fake-chat"

Standalone: ``python tests/fake_upstream.py --port 18081``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import re
import ssl as _ssl
import struct
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Self

try:
    import orjson
except ImportError:  # orjson is optional
    orjson = None

Json = dict[str, Any]
Headers = dict[str, str]
ErrorReply = tuple[int, Json, Headers]

HOST = "127.0.0.1"
DEFAULT_PORT = 18081
STALL_SECONDS = 30.0
SLOW_SECONDS = 0.1
SLOW_CHUNKS = 20
SPLIT_SECONDS = 0.005
SPLIT_SIZE = 50
POLL_SECONDS = 0.02
EMBEDDING_SIZE = 8
UNICODE_TAIL = "héllo wörld ☃ 日本"
GARBAGE = b"<html><body>upstream exploded</body></html> {not json"
MODELS = ("fake-chat", "fake-embedding")
RETRY_AFTER = {"Retry-After": "7"}
SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "Transfer-Encoding": "chunked",
}

BEHAVIOURS: dict[str, str] = {
    "fake-split": "stream in tiny writes splitting SSE events and UTF-8 characters;"
    " the reply ends with UNICODE_TAIL",
    "fake-stall": "wait 30 s (or until the client hangs up) before answering",
    "fake-stall-stream": "send the first content chunk, then stall 30 s",
    "fake-drop": "close the connection without any response",
    "fake-drop-stream": "send two content chunks, then close without finishing",
    "fake-error-400-context": "400 invalid_request_error context_length_exceeded",
    "fake-error-429": "429 rate limit error with Retry-After: 7",
    "fake-error-500": "500 server error",
    "fake-error-401": "401 invalid API key",
    "fake-json-array": "200 whose JSON body is an array, not an object",
    "fake-bad-usage": "200 completion whose usage counts are strings",
    "fake-empty-stream": "a stream that sends only [DONE]",
    "fake-echo-key": "401 whose message repeats the credential it received; when"
    " streaming, one chunk and then an error event repeating it",
    "fake-garbage": "200 whose body is not JSON",
    "fake-slow-stream": "20 content chunks, 100 ms apart",
    "fake-redirect": "307 to /redirected on this same server (a private address)",
}


class ClientGoneError(Exception):
    """The client hung up before the response was complete."""


# --- small helpers -------------------------------------------------------------


def dumps(value: Any) -> bytes:
    if orjson is not None:
        return orjson.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


def sse(payload: Json | str, event: str | None = None) -> bytes:
    data = payload.encode() if isinstance(payload, str) else dumps(payload)
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + data + b"\n\n"


def count_words(text: str) -> int:
    return len(text.split())


def pieces(text: str) -> list[str]:
    """Word-sized pieces that join back to exactly ``text``."""
    return re.findall(r"\s*\S+\s*", text)


def content_text(content: Any) -> str:
    """Text of a message content: a string, or the text parts of a list joined."""
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else []
    return " ".join(
        part["text"]
        for part in parts
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    )


def last_user_text(messages: list[Json]) -> str:
    users = [message for message in messages if message.get("role") == "user"]
    return content_text(users[-1].get("content")) if users else ""


def prompt_words(messages: list[Json]) -> int:
    return sum(count_words(content_text(m.get("content"))) for m in messages)


def require_messages(body: Json) -> list[Json]:
    messages = body.get("messages")
    if not messages or not isinstance(messages, list):
        raise ValueError("messages: a non-empty list is required")
    if not all(isinstance(message, dict) for message in messages):
        raise ValueError("messages: every message must be an object")
    return messages


def first_tool(body: Json) -> str | None:
    tools = body.get("tools")
    if not tools or body.get("tool_choice") in ("none", {"type": "none"}):
        return None
    tool = tools[0] if isinstance(tools[0], dict) else {}
    return str(tool.get("function", tool).get("name", "tool"))


def reply_for(model: str, user_text: str) -> str:
    text = f"echo: {user_text}"
    if model == "fake-split":
        return f"{text} {UNICODE_TAIL}"
    if model == "fake-slow-stream":
        return " ".join([text, *["tick"] * (SLOW_CHUNKS - count_words(text))])
    return text


# --- what the model says ----------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One answer: reply text, or the tool call's JSON arguments if ``tool``."""

    model: str
    prompt_tokens: int
    text: str
    tool: str | None = None
    usage_chunk: bool = False

    @property
    def completion_tokens(self) -> int:
        return count_words(self.text)


def make_turn(body: Json, prompt: int, user_text: str, usage_chunk: bool) -> Turn:
    model = str(body.get("model", ""))
    tool = first_tool(body)
    arguments = json.dumps({"echo": user_text}, ensure_ascii=False)
    text = arguments if tool else reply_for(model, user_text)
    return Turn(model, prompt, text, tool, usage_chunk)


def openai_turn(body: Json) -> Turn:
    messages = require_messages(body)
    options = body.get("stream_options") or {}
    usage_chunk = bool(options.get("include_usage"))
    return make_turn(
        body, prompt_words(messages), last_user_text(messages), usage_chunk
    )


def anthropic_turn(body: Json) -> Turn:
    messages = require_messages(body)
    prompt = prompt_words(messages) + count_words(content_text(body.get("system")))
    return make_turn(body, prompt, last_user_text(messages), False)


# --- OpenAI shapes -----------------------------------------------------------------


def openai_error(
    message: str, kind: str, code: str | None = None, param: str | None = None
) -> Json:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def openai_invalid(message: str) -> ErrorReply:
    return 400, openai_error(message, "invalid_request_error"), {}


OPENAI_ERRORS: dict[str, ErrorReply] = {
    "fake-error-400-context": (
        400,
        openai_error(
            "This model's maximum context length is 8192 tokens. However, your"
            " messages resulted in 9001 tokens. Please reduce the length of the"
            " messages.",
            "invalid_request_error",
            "context_length_exceeded",
            "messages",
        ),
        {},
    ),
    "fake-error-429": (
        429,
        openai_error(
            "Rate limit reached for requests. Please try again in 7s.",
            "requests",
            "rate_limit_exceeded",
        ),
        RETRY_AFTER,
    ),
    "fake-error-500": (
        500,
        openai_error(
            "The server had an error while processing your request.", "server_error"
        ),
        {},
    ),
    "fake-error-401": (
        401,
        openai_error(
            "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        ),
        {},
    ),
}


def openai_usage(turn: Turn) -> Json:
    return {
        "prompt_tokens": turn.prompt_tokens,
        "completion_tokens": turn.completion_tokens,
        "total_tokens": turn.prompt_tokens + turn.completion_tokens,
    }


def openai_finish(turn: Turn) -> str:
    return "tool_calls" if turn.tool else "stop"


def openai_message(turn: Turn) -> Json:
    if turn.tool is None:
        return {"role": "assistant", "content": turn.text, "refusal": None}
    function = {"name": turn.tool, "arguments": turn.text}
    call = {"id": new_id("call_"), "type": "function", "function": function}
    return {"role": "assistant", "content": None, "tool_calls": [call]}


def openai_completion(turn: Turn) -> Json:
    choice = {
        "index": 0,
        "message": openai_message(turn),
        "logprobs": None,
        "finish_reason": openai_finish(turn),
    }
    return {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": turn.model,
        "choices": [choice],
        "usage": openai_usage(turn),
    }


def openai_deltas(turn: Turn) -> list[Json]:
    parts = pieces(turn.text)
    if turn.tool is None:
        first = {"role": "assistant", "content": parts[0]}
        return [first, *({"content": part} for part in parts[1:])]
    function = {"name": turn.tool, "arguments": ""}
    call = {"index": 0, "id": new_id("call_"), "type": "function"}
    head = {
        "role": "assistant",
        "content": None,
        "tool_calls": [call | {"function": function}],
    }
    args = [{"index": 0, "function": {"arguments": part}} for part in parts]
    return [head, *({"tool_calls": [arg]} for arg in args)]


def openai_chunks(turn: Turn) -> list[bytes]:
    base: Json = {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": turn.model,
    }
    if turn.usage_chunk:
        base["usage"] = None
    choices = [
        {"index": 0, "delta": d, "finish_reason": None} for d in openai_deltas(turn)
    ]
    choices.append({"index": 0, "delta": {}, "finish_reason": openai_finish(turn)})
    events = [base | {"choices": [choice]} for choice in choices]
    if turn.usage_chunk:
        events.append(base | {"choices": [], "usage": openai_usage(turn)})
    return [*(sse(event) for event in events), sse("[DONE]")]


def embedding_inputs(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [value]
    return value if isinstance(value, list) else []


def embedding_vector(item: Any) -> list[float]:
    digest = hashlib.sha256(dumps(item)).digest()
    return [round(byte / 127.5 - 1.0, 6) for byte in digest[:EMBEDDING_SIZE]]


def encode_embedding(vector: list[float], encoding: Any) -> list[float] | str:
    if encoding != "base64":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def embeddings_reply(body: Json, inputs: list[Any]) -> Json:
    encoding = body.get("encoding_format")
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": encode_embedding(embedding_vector(item), encoding),
        }
        for index, item in enumerate(inputs)
    ]
    tokens = sum(count_words(x) if isinstance(x, str) else len(x) for x in inputs)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return {"object": "list", "data": data, "model": body.get("model"), "usage": usage}


def models_reply() -> Json:
    data = [
        {"id": model, "object": "model", "created": 1700000000, "owned_by": "fake"}
        for model in MODELS
    ]
    return {"object": "list", "data": data}


# --- Anthropic shapes --------------------------------------------------------------


def anthropic_error(kind: str, message: str) -> Json:
    return {"type": "error", "error": {"type": kind, "message": message}}


def anthropic_invalid(message: str) -> ErrorReply:
    return 400, anthropic_error("invalid_request_error", message), {}


ANTHROPIC_ERRORS: dict[str, ErrorReply] = {
    "fake-error-400-context": (
        400,
        anthropic_error(
            "invalid_request_error",
            "prompt is too long: 250000 tokens > 200000 maximum",
        ),
        {},
    ),
    "fake-error-429": (
        429,
        anthropic_error(
            "rate_limit_error", "Number of requests has exceeded your rate limit."
        ),
        RETRY_AFTER,
    ),
    "fake-error-500": (500, anthropic_error("api_error", "Internal server error"), {}),
    "fake-error-401": (
        401,
        anthropic_error("authentication_error", "invalid x-api-key"),
        {},
    ),
}


def anthropic_stop(turn: Turn) -> str:
    return "tool_use" if turn.tool else "end_turn"


def anthropic_start_block(turn: Turn) -> Json:
    if turn.tool is None:
        return {"type": "text", "text": ""}
    return {"type": "tool_use", "id": new_id("toolu_"), "name": turn.tool, "input": {}}


def anthropic_block(turn: Turn) -> Json:
    if turn.tool is None:
        return {"type": "text", "text": turn.text}
    return anthropic_start_block(turn) | {"input": json.loads(turn.text)}


def anthropic_delta(turn: Turn, piece: str) -> Json:
    if turn.tool is None:
        return {"type": "text_delta", "text": piece}
    return {"type": "input_json_delta", "partial_json": piece}


def anthropic_message(
    turn: Turn, content: list[Json], stop: str | None, out: int
) -> Json:
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": turn.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": turn.prompt_tokens, "output_tokens": out},
    }


def anthropic_reply(turn: Turn) -> Json:
    content = [anthropic_block(turn)]
    return anthropic_message(
        turn, content, anthropic_stop(turn), turn.completion_tokens
    )


def anthropic_events(turn: Turn) -> list[bytes]:
    start = anthropic_message(turn, [], None, 1)
    block = anthropic_start_block(turn)
    deltas = [anthropic_delta(turn, piece) for piece in pieces(turn.text)]
    stop = {"stop_reason": anthropic_stop(turn), "stop_sequence": None}
    events = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": block},
        {"type": "ping"},
        *({"type": "content_block_delta", "index": 0, "delta": d} for d in deltas),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": stop,
            "usage": {"output_tokens": turn.completion_tokens},
        },
        {"type": "message_stop"},
    ]
    return [sse(event, event["type"]) for event in events]


@dataclass(frozen=True)
class Api:
    """How one provider API parses requests and shapes answers and errors."""

    turn: Callable[[Json], Turn]
    reply: Callable[[Turn], Json]
    events: Callable[[Turn], list[bytes]]
    errors: dict[str, ErrorReply]
    invalid: Callable[[str], ErrorReply]
    first_content: int  # stream events up to and including the first content delta


OPENAI = Api(
    openai_turn, openai_completion, openai_chunks, OPENAI_ERRORS, openai_invalid, 1
)
ANTHROPIC = Api(
    anthropic_turn,
    anthropic_reply,
    anthropic_events,
    ANTHROPIC_ERRORS,
    anthropic_invalid,
    4,
)


# --- HTTP/1.1 --------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A received request; ``headers`` are lower-cased, ``body`` is parsed JSON."""

    method: str
    path: str
    headers: Headers
    body: Any
    raw: bytes = b""
    query: str = ""
    connection: int = 0  # the same number for requests sharing a connection
    keep_alive: bool = field(default=True, repr=False)


class Conn:
    """One client connection: writes responses, notices when the client leaves."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.number = number
        self.open = True
        self.keep_alive = True

    def check(self) -> None:
        if self.reader.at_eof() or self.writer.is_closing():
            raise ClientGoneError

    async def write(self, data: bytes) -> None:
        try:
            self.writer.write(data)
            await self.writer.drain()
        except ConnectionError as exc:
            raise ClientGoneError from exc

    async def pause(self, seconds: float) -> None:
        """Sleep, but raise ClientGoneError as soon as the client hangs up."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.check()
            await asyncio.sleep(min(left, POLL_SECONDS))

    def head(self, status: int, headers: Headers) -> bytes:
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"x-request-id: {new_id('req_')}")
        lines.append("Connection: " + ("keep-alive" if self.keep_alive else "close"))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send(
        self, status: int, body: bytes, headers: Headers | None = None
    ) -> None:
        fields = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        await self.write(self.head(status, fields | (headers or {})) + body)
        self.open = self.keep_alive

    async def send_json(
        self, status: int, payload: Json, headers: Headers | None = None
    ) -> None:
        await self.send(status, dumps(payload), headers)

    async def start_stream(self) -> None:
        await self.write(self.head(200, SSE_HEADERS))

    async def send_chunk(self, data: bytes) -> None:
        self.check()
        await self.write(b"%x\r\n%s\r\n" % (len(data), data))

    async def end_stream(self) -> None:
        await self.write(b"0\r\n\r\n")
        self.open = self.keep_alive

    def drop(self) -> None:
        self.writer.transport.abort()
        self.open = False

    def close(self) -> None:
        self.writer.close()


def keep_alive(version: str, headers: Headers) -> bool:
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


async def read_headers(reader: asyncio.StreamReader) -> Headers:
    headers: Headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while size := int((await reader.readline()).split(b";")[0], 16):
        parts.append((await reader.readexactly(size + 2))[:-2])
    await read_headers(reader)  # trailers
    return b"".join(parts)


async def read_body(reader: asyncio.StreamReader, headers: Headers) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await read_chunked(reader)
    return await reader.readexactly(int(headers.get("content-length", "0")))


async def read_request(conn: Conn) -> Request | None:
    """The next request, or None when the client closed or sent nonsense."""
    try:
        line = await conn.reader.readline()
        if not line:
            return None
        method, target, version = line.decode("latin-1").split()
        headers = await read_headers(conn.reader)
        raw = await read_body(conn.reader, headers)
    except (asyncio.IncompleteReadError, ValueError):
        return None
    path, _, query = target.partition("?")
    alive = keep_alive(version, headers)
    return Request(
        method, path, headers, parse_json(raw), raw, query, conn.number, alive
    )


# --- streaming behaviours ---------------------------------------------------------


def split_bytes(data: bytes, size: int = SPLIT_SIZE) -> list[bytes]:
    """Small pieces of ``data``, cut every ``size`` bytes, after the first byte
    of every multi-byte UTF-8 character and between the newlines ending an event."""
    cuts = [
        i
        for i in range(1, len(data))
        if i % size == 0 or data[i - 1] >= 0xC0 or data[i - 1 : i + 1] == b"\n\n"
    ]
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


async def deliver_all(conn: Conn, events: list[bytes], first: int) -> bool:
    for event in events:
        await conn.send_chunk(event)
    return True


async def deliver_split(conn: Conn, events: list[bytes], first: int) -> bool:
    for piece in split_bytes(b"".join(events)):
        await conn.send_chunk(piece)
        await conn.pause(SPLIT_SECONDS)
    return True


async def deliver_slow(conn: Conn, events: list[bytes], first: int) -> bool:
    for event in events:
        await conn.send_chunk(event)
        await conn.pause(SLOW_SECONDS)
    return True


async def deliver_stall(conn: Conn, events: list[bytes], first: int) -> bool:
    await deliver_all(conn, events[:first], first)
    await conn.pause(STALL_SECONDS)
    return await deliver_all(conn, events[first:], first)


async def deliver_drop(conn: Conn, events: list[bytes], first: int) -> bool:
    await deliver_all(conn, events[: first + 1], first)
    conn.drop()
    return False


Delivery = Callable[[Conn, list[bytes], int], Awaitable[bool]]
DELIVERIES: dict[str, Delivery] = {
    "fake-split": deliver_split,
    "fake-slow-stream": deliver_slow,
    "fake-stall-stream": deliver_stall,
    "fake-drop-stream": deliver_drop,
}


async def stream(conn: Conn, model: str, events: list[bytes], first: int) -> None:
    await conn.start_stream()
    if await DELIVERIES.get(model, deliver_all)(conn, events, first):
        await conn.end_stream()


# --- endpoints -------------------------------------------------------------------


def json_body(request: Request) -> Json:
    return request.body if isinstance(request.body, dict) else {}


async def misbehave(conn: Conn, model: str, errors: dict[str, ErrorReply]) -> bool:
    """Act out a failure picked by ``model``; True when nothing is left to send."""
    if model == "fake-stall":
        await conn.pause(STALL_SECONDS)
    if model == "fake-drop":
        conn.drop()
    elif model in errors:
        await conn.send_json(*errors[model])
    elif model == "fake-redirect":
        host = conn.writer.get_extra_info("sockname")
        location = f"http://{host[0]}:{host[1]}/redirected/v1/chat/completions"
        await conn.send(307, b"", {"Location": location})
    elif model == "fake-garbage":
        await conn.send(200, GARBAGE)
    elif model == "fake-json-array":
        await conn.send(200, b"[1, 2, 3]")
    elif model == "fake-empty-stream":
        await conn.start_stream()
        await conn.send_chunk(b"data: [DONE]\n\n")
        await conn.end_stream()
    else:
        return False
    return True


def received_credential(request: Request) -> str:
    bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
    return bearer or request.headers.get("x-api-key", "")


async def echo_key(request: Request, conn: Conn, body: Json) -> None:
    """Answer the way careless providers do: with the caller's key in the text."""
    key = received_credential(request)
    message = f"Incorrect API key provided: {key}"
    if body.get("stream") is not True:
        error = openai_error(message, f"invalid {key}", code=key, param=key)
        await conn.send_json(401 if key else 400, error, {"Retry-After": key})
        return
    turn = openai_turn(body)
    await conn.start_stream()
    await conn.send_chunk(openai_chunks(turn)[0])
    await conn.send_chunk(sse(openai_error(message, "server_error")))
    await conn.end_stream()


async def model_call(request: Request, conn: Conn, api: Api) -> None:
    body = json_body(request)
    model = str(body.get("model", ""))
    if model == "fake-echo-key":
        await echo_key(request, conn, body)
        return
    if await misbehave(conn, model, api.errors):
        return
    try:
        turn = api.turn(body)
    except ValueError as exc:
        await conn.send_json(*api.invalid(str(exc)))
        return
    if body.get("stream") is True:
        await stream(conn, model, api.events(turn), api.first_content)
    elif model == "fake-bad-usage":
        reply = api.reply(turn)
        reply["usage"] = {"prompt_tokens": "many", "completion_tokens": None}
        await conn.send_json(200, reply)
    else:
        await conn.send_json(200, api.reply(turn))


async def handle_chat(request: Request, conn: Conn) -> None:
    await model_call(request, conn, OPENAI)


async def handle_messages(request: Request, conn: Conn) -> None:
    await model_call(request, conn, ANTHROPIC)


async def handle_embeddings(request: Request, conn: Conn) -> None:
    body = json_body(request)
    if await misbehave(conn, str(body.get("model", "")), OPENAI_ERRORS):
        return
    inputs = embedding_inputs(body.get("input"))
    if inputs:
        await conn.send_json(200, embeddings_reply(body, inputs))
    else:
        await conn.send_json(*openai_invalid("input: a string or a non-empty list"))


async def handle_models(request: Request, conn: Conn) -> None:
    await conn.send_json(200, models_reply())


async def handle_health(request: Request, conn: Conn) -> None:
    await conn.send_json(200, {"status": "ok"})


async def handle_not_found(request: Request, conn: Conn) -> None:
    message = f"Unknown request URL: {request.method} {request.path}"
    await conn.send_json(
        404, openai_error(message, "invalid_request_error", "unknown_url")
    )


async def handle_wrong_method(request: Request, conn: Conn) -> None:
    message = f"Method {request.method} not allowed for {request.path}"
    await conn.send_json(405, openai_error(message, "invalid_request_error"))


Handler = Callable[[Request, Conn], Awaitable[None]]
ROUTES: dict[str, tuple[str, Handler]] = {  # path suffix -> (method, handler)
    "/v1/chat/completions": ("POST", handle_chat),
    "/v1/messages": ("POST", handle_messages),
    "/v1/embeddings": ("POST", handle_embeddings),
    "/v1/models": ("GET", handle_models),
    "/health": ("GET", handle_health),
}


def route(request: Request) -> Handler:
    for suffix, (method, handler) in ROUTES.items():
        if request.path.endswith(suffix):
            return handler if request.method == method else handle_wrong_method
    return handle_not_found


async def respond(request: Request, conn: Conn) -> None:
    try:
        await route(request)(request, conn)
    except ClientGoneError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug in this fake: answer loudly
        traceback.print_exc()
        await conn.send_json(500, openai_error(f"fake upstream bug: {exc!r}", "bug"))


# --- the server ------------------------------------------------------------------


class FakeUpstream:
    """The fake provider on 127.0.0.1.

    ``start()``/``stop()`` (or ``with``) run it in a background thread with its
    own event loop; ``serve()`` runs it in the calling thread.
    """

    def __init__(self, port: int = 0, ssl: _ssl.SSLContext | None = None) -> None:
        self.port = 0  # the bound port, known once started
        self._wanted_port = port
        self._ssl = ssl  # served over TLS with this context when given
        self._cond = threading.Condition()
        self._requests: list[Request] = []
        self._disconnects = 0
        self._connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        scheme = "https" if self._ssl else "http"
        return f"{scheme}://{HOST}:{self.port}"

    @property
    def requests(self) -> list[Request]:
        """A snapshot of the requests received so far, oldest first."""
        with self._cond:
            return list(self._requests)

    @property
    def disconnects(self) -> int:
        """Responses cut short because the client hung up."""
        with self._cond:
            return self._disconnects

    @property
    def connections(self) -> int:
        """Connections accepted so far."""
        with self._cond:
            return self._connections

    def clear(self) -> None:
        """Forget recorded requests and reset the disconnect counter."""
        with self._cond:
            self._requests.clear()
            self._disconnects = 0

    def wait_for_disconnects(self, count: int = 1, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._disconnects >= count, timeout)

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("FakeUpstream is already running")
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run_thread, args=(ready,), name="fake-upstream", daemon=True
        )
        self._thread.start()
        ready.wait()
        if not self.port:
            self.stop()
            raise RuntimeError("FakeUpstream failed to start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def serve(
        self,
        max_seconds: float | None = None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        """Serve in the calling thread until stop() or ``max_seconds``."""
        asyncio.run(self._main(on_ready or (lambda: None), max_seconds))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run_thread(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._main(ready.set, None))
        finally:
            ready.set()

    async def _main(
        self, on_ready: Callable[[], None], max_seconds: float | None
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(
            self._serve, HOST, self._wanted_port, ssl=self._ssl
        )
        self.port = server.sockets[0].getsockname()[1]
        on_ready()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), max_seconds)
        server.close()  # asyncio.run then cancels the connection tasks

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        conn = Conn(reader, writer, self._next_connection())
        try:
            await self._converse(conn)
        except ClientGoneError:
            self._note_disconnect()
        except (ConnectionError, asyncio.CancelledError):
            pass  # reset by the client, or the server is shutting down
        finally:
            conn.close()

    async def _converse(self, conn: Conn) -> None:
        while conn.open and (request := await read_request(conn)) is not None:
            self._record(request)
            conn.keep_alive = request.keep_alive
            await respond(request, conn)

    def _next_connection(self) -> int:
        with self._cond:
            self._connections += 1
            return self._connections

    def _record(self, request: Request) -> None:
        with self._cond:
            self._requests.append(request)

    def _note_disconnect(self) -> None:
        with self._cond:
            self._disconnects += 1
            self._cond.notify_all()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fake OpenAI/Anthropic provider.")
    parser.add_argument("--host", default=HOST, help=f"only {HOST} is accepted")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    args = parser.parse_args(argv)
    if args.host != HOST:
        parser.error(f"refusing to bind {args.host}: only {HOST} is allowed")
    if args.max_seconds <= 0:
        parser.error("--max-seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    upstream = FakeUpstream(port=args.port)

    def announce() -> None:
        print(f"fake upstream listening on {upstream.base_url}", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        upstream.serve(args.max_seconds, announce)


if __name__ == "__main__":
    main()
