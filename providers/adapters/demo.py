"""The built-in ``demo`` provider: no network, no key.

``demo/echo`` answers with the last user message exactly as the provider
received it, so the quick start works with nothing configured, and a reader can
see what the gateway forwarded.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator

from providers.adapters.base import Adapter, ChatStream, Target, UpstreamError


def last_user_text(body: dict) -> str:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(
                    part.get("text", "")
                    for part in content
                    if isinstance(part, dict) and part.get("type") == "text"
                )
    return ""


def count_words(body: dict) -> int:
    total = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += len(content.split())
    return total


class DemoStream(ChatStream):
    def __init__(self, completion_id: str, model: str, words: list[str], prompt: int):
        self._id = completion_id
        self._model = model
        self._words = words
        completion = sum(1 for word in words if word.strip())
        self.usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    async def __aiter__(self) -> AsyncIterator[dict]:
        yield self._chunk({"role": "assistant", "content": ""}, None)
        for piece in self._words:
            yield self._chunk({"content": piece}, None)
        yield self._chunk({}, "stop")
        yield {**self._chunk({}, None), "choices": [], "usage": self.usage}

    def _chunk(self, delta: dict, finish_reason: str | None) -> dict:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self._model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    async def aclose(self) -> None:
        return None


class DemoAdapter(Adapter):
    async def chat(self, target: Target, body: dict) -> dict:
        text = self._reply(target, body)
        prompt, completion = count_words(body), len(text.split())
        return {
            "id": f"chatcmpl-demo-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }

    async def chat_stream(self, target: Target, body: dict) -> ChatStream:
        text = self._reply(target, body)
        return DemoStream(
            f"chatcmpl-demo-{uuid.uuid4().hex}",
            body["model"],
            re.findall(r"\s*\S+\s*|\s+", text),
            count_words(body),
        )

    def _reply(self, target: Target, body: dict) -> str:
        if target.model != "echo":
            raise UpstreamError(
                404,
                f"The demo provider has no model {target.model!r}; use demo/echo.",
                type="invalid_request_error",
                code="model_not_found",
                param="model",
            )
        return last_user_text(body)
