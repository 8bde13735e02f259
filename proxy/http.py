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
        anthropic = scope.get("path", "").rstrip("/") == "/v1/messages"
        return cls(scope, receive, send, headers, request_id, anthropic=anthropic)

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
        except orjson.JSONDecodeError as exc:
            if "limit exceeded" in exc.msg:
                raise _too_deep() from None
            # orjson's reason names a position and a kind of fault, never
            # the body's content.
            raise bad_request(f"The request body is not valid JSON: {exc}.") from None
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.")
        if too_deep(body, data, settings.PROXY_MAX_JSON_DEPTH):
            raise _too_deep()
        return data

    async def _read_body(self) -> bytes:
        limit = settings.PROXY_MAX_BODY_BYTES
        declared = self.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise _too_large(limit)
        seconds = settings.PROXY_BODY_TIMEOUT
        try:
            async with asyncio.timeout(seconds):
                return await self._receive_body(limit)
        except TimeoutError:
            raise ProxyError(
                408,
                f"The request body did not arrive within {seconds:g} seconds.",
                code="request_timeout",
                headers=_CLOSE,
                limit="body_timeout",
            ) from None

    async def _receive_body(self, limit: int) -> bytes:
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


def too_deep(body: bytes, data: dict | list, limit: int) -> bool:
    """Return True if ``data`` nests arrays and objects deeper than ``limit``.

    A body with no more brackets than the limit cannot be too deep, and most
    bodies are that small; larger ones are walked a level at a time, looking
    into a container only if it holds containers.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    level: list[dict | list] = [data]
    for _ in range(limit):
        deeper: list[dict | list] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            kinds = set(map(type, children))
            if dict in kinds or list in kinds:
                deeper += [child for child in children if type(child) in _CONTAINERS]
        if not deeper:
            return False
        level = deeper
    return True


_CONTAINERS = (dict, list)
_CLOSE = {"connection": "close"}


def _too_deep() -> ProxyError:
    return ProxyError(
        400,
        "The request body nests arrays and objects more than "
        f"{settings.PROXY_MAX_JSON_DEPTH} levels deep.",
        limit="json_depth",
    )


def _too_large(limit: int) -> ProxyError:
    # The rest of the body is not read: the connection cannot carry another
    # request after it.
    return ProxyError(
        413,
        f"The request body is larger than the limit of {limit} bytes.",
        code="request_too_large",
        headers=_CLOSE,
        limit="body_size",
    )
