"""The ASGI side of the proxy: reading requests and writing responses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

import orjson

from gateway_project import logcontext
from gateway_project.clientaddr import real_address
from proxy.errors import ProxyError, bad_request

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass
class Exchange:
    """One request and the state of its response."""

    scope: Scope
    receive: Receive
    send: Send
    headers: dict[str, str]
    request_id: str
    started: bool = False
    finished: bool = False
    disconnected: bool = False
    anthropic: bool = False  # errors in Anthropic's shape (``/v1/messages``)
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    @classmethod
    def open(cls, scope: Scope, receive: Receive, send: Send) -> Exchange:
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", ())
        }
        request_id = logcontext.request_id(headers.get("x-request-id", ""))
        return cls(scope, receive, send, headers, request_id)

    @property
    def client_ip(self) -> str:
        client = self.scope.get("client")
        if not client:
            return "unknown"
        forwarded_for = self.headers.get("x-forwarded-for", "")
        return real_address(client[0], forwarded_for) or client[0]

    @property
    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return self.headers.get("x-api-key") or None

    async def read_json(self) -> dict:
        body = await self._read_body()
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise bad_request("The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.")
        try:
            # The body is sent on as JSON: a structure too deep to serialise
            # (over 255 levels) is refused now rather than failing later.
            orjson.dumps(data)
        except orjson.JSONEncodeError:
            raise bad_request("The request body is nested too deeply.") from None
        return data

    async def _read_body(self) -> bytes:
        limit = settings.PROXY_MAX_BODY_BYTES
        declared = self.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                raise asyncio.CancelledError
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @property
    def request_id_header(self) -> tuple[bytes, bytes]:
        return (b"x-request-id", self.request_id.encode())

    async def start(self, status: int, content_type: bytes, extra=()) -> None:
        headers = [
            (b"content-type", content_type),
            self.request_id_header,
            *self.response_headers,
            *extra,
        ]
        self.started = True
        await self.send(
            {"type": "http.response.start", "status": status, "headers": headers}
        )

    async def write(self, data: bytes) -> None:
        await self.send({"type": "http.response.body", "body": data, "more_body": True})

    async def end(self, data: bytes = b"") -> None:
        self.finished = True
        await self.send({"type": "http.response.body", "body": data})

    async def json(self, status: int, payload: object) -> None:
        await self.start(status, b"application/json")
        await self.end(orjson.dumps(payload))

    async def error(self, error: ProxyError) -> None:
        extra = [(k.encode(), v.encode()) for k, v in error.headers.items()]
        await self.start(error.status, b"application/json", extra)
        await self.end(error.anthropic_body() if self.anthropic else error.body())

    async def end_stream_with(self, error: ProxyError) -> None:
        """End a stream that has begun with an error event."""
        if self.anthropic:
            await self.end(b"event: error\ndata: " + error.anthropic_body() + b"\n\n")
        else:
            await self.end(b"data: " + error.body() + b"\n\n")

    async def watch_disconnect(self, task: asyncio.Task) -> None:
        """Cancel ``task`` when the client goes away before the response ends."""
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                if not self.finished:
                    self.disconnected = True
                    task.cancel()
                return


def _too_large(limit: int) -> ProxyError:
    return ProxyError(
        413,
        f"The request body is larger than the limit of {limit} bytes.",
        code="request_too_large",
        limit="body_size",
    )
