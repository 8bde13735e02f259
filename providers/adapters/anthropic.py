"""Adapter for Anthropic's Messages API, translated to and from chat completions."""

from __future__ import annotations

from collections.abc import AsyncIterator

from django.conf import settings

import httpx
import orjson

from providers import http
from providers.adapters.base import (
    Adapter,
    ChatStream,
    Target,
    UpstreamError,
    invalid_response,
    parse_object,
    provider_error,
    stream_cut_short,
)
from providers.anthropic_translate import (
    StreamError,
    StreamTranslator,
    TranslationError,
    anthropic_error_to_openai,
    chat_to_messages_request,
    messages_to_chat_response,
)
from providers.sse import SSEDecoder

API_VERSION = "2023-06-01"
# What reading a provider's answer of an unexpected shape raises in the
# translation, which trusts the documented shapes.
_MALFORMED = (TypeError, AttributeError, KeyError, ValueError, IndexError)


def headers_for(target: Target) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "warden-gateway",
        "anthropic-version": API_VERSION,
        "x-api-key": target.api_key,
    }


def error_from_response(
    status: int, content: bytes, headers: httpx.Headers
) -> UpstreamError:
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        body = None
    detail = anthropic_error_to_openai(status, body if isinstance(body, dict) else None)
    error = detail["error"]
    return provider_error(
        status,
        error["message"],
        type=error["type"],
        code=error.get("code"),
        param=error.get("param"),
        retry_after=headers.get("retry-after"),
    )


def _request(target: Target, body: dict) -> dict:
    try:
        return chat_to_messages_request(
            body, target.model, settings.ANTHROPIC_DEFAULT_MAX_TOKENS
        )
    except TranslationError as exc:
        raise UpstreamError(
            400, exc.message, type="invalid_request_error", param=exc.param
        ) from None
    except _MALFORMED:
        # A shape the request checks let through but the translation cannot read.
        raise UpstreamError(
            400,
            "The request cannot be translated for this provider.",
            type="invalid_request_error",
        ) from None


class AnthropicStream(ChatStream):
    def __init__(self, response: httpx.Response, model: str) -> None:
        self._response = response
        self._translator = StreamTranslator(model, include_usage=True)

    async def __aiter__(self) -> AsyncIterator[dict]:
        decoder = SSEDecoder()
        async for raw in http.iter_bytes(self._response):
            for event in decoder.feed(raw):
                try:
                    chunks = self._translator.feed(
                        event.event, parse_object(event.data.encode())
                    )
                except StreamError as exc:
                    raise UpstreamError(
                        502,
                        f"The provider failed: {exc.message}",
                        code="upstream_error",
                    ) from None
                except _MALFORMED:
                    raise invalid_response(
                        "The provider's stream has an event of the wrong shape."
                    ) from None
                self.usage = self._translator.usage
                for chunk in chunks:
                    yield chunk
                if event.event == "message_stop":
                    return
        raise stream_cut_short()

    async def aclose(self) -> None:
        await self._response.aclose()


class MessagesStream:
    """An open upstream stream of Anthropic events, relayed as they are."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.usage: dict | None = None

    async def __aiter__(self) -> AsyncIterator[tuple[str, dict]]:
        decoder = SSEDecoder()
        async for raw in http.iter_bytes(self._response):
            for event in decoder.feed(raw):
                data = parse_object(event.data.encode())
                if event.event == "error" or data.get("type") == "error":
                    raise error_from_response(502, event.data.encode(), httpx.Headers())
                self._count(event.event, data)
                yield event.event, data
                if event.event == "message_stop":
                    return
        raise stream_cut_short()

    def _count(self, name: str, data: dict) -> None:
        message = data.get("message") if name == "message_start" else data
        usage = message.get("usage") if isinstance(message, dict) else None
        if isinstance(usage, dict):
            self.usage = dict(self.usage or {}, **openai_usage(usage))

    async def aclose(self) -> None:
        await self._response.aclose()


def openai_usage(usage: object) -> dict:
    """Return Anthropic token counts under the names usage records use."""
    counts: dict = {}
    if not isinstance(usage, dict):
        return counts
    prompt = [usage.get(name) for name in _INPUT_COUNTS if name in usage]
    if prompt and all(isinstance(value, int) for value in prompt):
        counts["prompt_tokens"] = sum(prompt)
    if "output_tokens" in usage:
        counts["completion_tokens"] = usage["output_tokens"]
    return counts


_INPUT_COUNTS = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


class AnthropicAdapter(Adapter):
    speaks_messages = True

    async def chat(self, target: Target, body: dict) -> dict:
        payload = _request(target, dict(body, stream=False))
        message = _message(await self._send(target, payload))
        try:
            return messages_to_chat_response(message, body["model"])
        except _MALFORMED:
            raise invalid_response(
                "The provider's message has the wrong shape."
            ) from None

    async def chat_stream(self, target: Target, body: dict) -> ChatStream:
        payload = _request(target, dict(body, stream=True))
        response = await self._send(target, payload, stream=True)
        return AnthropicStream(response, body["model"])

    async def messages(self, target: Target, body: dict) -> dict:
        payload = dict(body, model=target.model, stream=False)
        return _message(await self._send(target, payload))

    async def messages_stream(self, target: Target, body: dict) -> MessagesStream:
        payload = dict(body, model=target.model, stream=True)
        return MessagesStream(await self._send(target, payload, stream=True))

    async def _send(
        self, target: Target, payload: dict, stream: bool = False
    ) -> httpx.Response:
        response = await http.send(
            "POST",
            target.base_url + "/messages",
            headers=headers_for(target),
            payload=payload,
            stream=stream,
        )
        if response.status_code != 200:
            content = await response.aread()
            await response.aclose()
            raise error_from_response(response.status_code, content, response.headers)
        return response


def _message(response: httpx.Response) -> dict:
    message = parse_object(response.content)
    if message.get("type") != "message" or not isinstance(message.get("content"), list):
        raise invalid_response("The provider's answer is not a message.")
    return message
