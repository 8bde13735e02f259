"""Adapter for OpenAI and every provider that speaks its API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson

from providers import http
from providers.adapters.base import (
    Adapter,
    ChatStream,
    Target,
    UpstreamError,
    parse_object,
    provider_error,
    stream_cut_short,
)
from providers.sse import SSEDecoder


def headers_for(target: Target) -> dict[str, str]:
    headers = {"content-type": "application/json", "user-agent": "warden-gateway"}
    if target.api_key:
        if target.auth_header == "authorization":
            headers["authorization"] = f"Bearer {target.api_key}"
        else:
            headers[target.auth_header] = target.api_key
    return headers


def error_from_response(
    status: int, content: bytes, headers: httpx.Headers
) -> UpstreamError:
    try:
        detail = orjson.loads(content).get("error") or {}
    except (orjson.JSONDecodeError, AttributeError):
        detail = {}
    if not isinstance(detail, dict):
        detail = {"message": str(detail)}
    message = str(detail.get("message") or f"The provider answered HTTP {status}.")
    return provider_error(
        status,
        message,
        type=detail.get("type"),
        code=detail.get("code"),
        param=detail.get("param"),
        retry_after=headers.get("retry-after"),
    )


class OpenAIStream(ChatStream):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[dict]:
        decoder = SSEDecoder()
        async for raw in http.iter_bytes(self._response):
            for event in decoder.feed(raw):
                if event.data == "[DONE]":
                    return
                chunk = parse_object(event.data.encode())
                if "error" in chunk:
                    raise error_from_response(502, event.data.encode(), httpx.Headers())
                if chunk.get("usage"):
                    self.usage = chunk["usage"]
                yield chunk
        raise stream_cut_short()

    async def aclose(self) -> None:
        await self._response.aclose()


class OpenAIAdapter(Adapter):
    async def chat(self, target: Target, body: dict) -> dict:
        return await self._post(target, "/chat/completions", body)

    async def embeddings(self, target: Target, body: dict) -> dict:
        return await self._post(target, "/embeddings", body)

    async def chat_stream(self, target: Target, body: dict) -> ChatStream:
        options = dict(body.get("stream_options") or {}, include_usage=True)
        payload = dict(body, model=target.model, stream=True, stream_options=options)
        response = await http.send(
            "POST",
            target.base_url + "/chat/completions",
            headers=headers_for(target),
            payload=payload,
            stream=True,
        )
        if response.status_code != 200:
            content = await response.aread()
            await response.aclose()
            raise error_from_response(response.status_code, content, response.headers)
        return OpenAIStream(response)

    async def _post(self, target: Target, path: str, body: dict) -> dict:
        response = await http.send(
            "POST",
            target.base_url + path,
            headers=headers_for(target),
            payload=dict(body, model=target.model),
        )
        if response.status_code != 200:
            raise error_from_response(
                response.status_code, response.content, response.headers
            )
        return parse_object(response.content)
