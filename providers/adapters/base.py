"""The interface every provider adapter implements, and its one error type."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from providers.catalogue import ModelSpec


@dataclass
class Target:
    """Where one request goes. ``api_key`` is plaintext and lives only in memory."""

    provider: str
    model: str
    base_url: str
    api_key: str = field(repr=False)
    auth_header: str = "authorization"
    spec: ModelSpec | None = None


class UpstreamError(Exception):
    """The provider refused or failed. ``retryable`` says whether a retry can help."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "upstream_error",
        code: str | None = None,
        param: str | None = None,
        retryable: bool = False,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.retryable = retryable
        self.retry_after = retry_after


class ChatStream:
    """An open upstream stream of OpenAI ``chat.completion.chunk`` objects."""

    usage: dict | None = None

    def __aiter__(self) -> AsyncIterator[dict]:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError


class Adapter:
    # Whether the provider takes Anthropic Messages requests as they are.
    speaks_messages = False

    async def chat(self, target: Target, body: dict) -> dict:
        raise NotImplementedError

    async def chat_stream(self, target: Target, body: dict) -> ChatStream:
        """Open the stream; raise ``UpstreamError`` before any chunk is read."""
        raise NotImplementedError

    async def embeddings(self, target: Target, body: dict) -> dict:
        raise UpstreamError(
            400,
            f"Provider {target.provider!r} does not offer embeddings.",
            type="invalid_request_error",
            code="unsupported_endpoint",
        )


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UpstreamError(
            502,
            "The provider returned a response that is not JSON.",
            code="upstream_invalid_response",
            retryable=True,
        ) from None


def parse_object(raw: bytes) -> dict:
    """Parse a JSON object; anything else from a provider is a bad answer."""
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise invalid_response("The provider returned JSON that is not an object.")
    return data


def stream_cut_short() -> UpstreamError:
    return UpstreamError(
        502,
        "The provider's stream ended before it was complete.",
        code="upstream_stream_broken",
        retryable=True,
    )


def invalid_response(message: str) -> UpstreamError:
    return UpstreamError(502, message, code="upstream_invalid_response", retryable=True)


def retryable_status(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


def provider_error(
    status: int,
    message: str,
    *,
    type: str | None = None,
    code: str | None = None,
    param: str | None = None,
    retry_after: str | None = None,
) -> UpstreamError:
    """Map a provider's error answer to what the gateway's caller should see.

    The provider refusing the gateway's own credential is the gateway's
    problem, not the caller's, so it is a 502; the provider's rate limit keeps
    its 429 and Retry-After under a code distinct from the gateway's limits.
    """
    if status in (401, 403):
        return UpstreamError(
            502,
            f"The provider refused the gateway's credential: {message}",
            code="upstream_authentication_failed",
        )
    if status == 429:
        return UpstreamError(
            429,
            message,
            type="rate_limit_error",
            code="provider_rate_limited",
            retryable=True,
            retry_after=retry_after,
        )
    if status >= 500 or status < 400:
        return UpstreamError(
            502,
            f"The provider failed: {message}",
            code="upstream_error",
            retryable=True,
        )
    return UpstreamError(
        status,
        message,
        type=type or "invalid_request_error",
        code=code,
        param=param,
        retryable=retryable_status(status),
    )
