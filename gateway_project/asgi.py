"""ASGI entry point: ``/v1/`` goes to the async proxy, everything else to Django."""

from __future__ import annotations

import asyncio
import os
import sys

from django.conf import settings
from django.core.asgi import get_asgi_application

import orjson

from gateway_project.clientaddr import untrusted_forwarding_removed
from gateway_project.env import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_project.settings")
try:
    django_application = get_asgi_application()
    from accounts.database import refuse_unsafe_role

    refuse_unsafe_role()
except ConfigError as exc:
    print(f"warden: configuration error: {exc}", file=sys.stderr)  # noqa: T201
    # 3 is gunicorn's "worker failed to boot": the arbiter stops instead of
    # restarting workers that can never start.
    sys.exit(3)

from proxy.app import application as proxy_application  # noqa: E402
from proxy.app import refuse as proxy_refuse  # noqa: E402
from proxy.errors import ProxyError  # noqa: E402
from proxy.lifespan import lifespan  # noqa: E402  (needs Django set up first)


def is_proxy_path(path: str) -> bool:
    """Return True for ``/v1`` and below, however the client spelled it."""
    normalised = "/" + path.lstrip("/").lower()
    return normalised == "/v1" or normalised.startswith("/v1/")


MAX_HEADER_BYTES = settings.MAX_REQUEST_HEADER_BYTES
# The rest of a refused request is not read: its connection carries no other.
CLOSE = {"connection": "close"}


def header_bytes(scope) -> int:
    """Return the size of the request's header lines, as sent."""
    return sum(len(name) + len(value) + 4 for name, value in scope["headers"])


async def refuse_large_headers(scope, receive, send) -> None:
    message = (
        f"The request's headers are larger than the limit of {MAX_HEADER_BYTES} bytes."
    )
    if is_proxy_path(scope["path"]):
        error = ProxyError(
            431, message, code="request_header_fields_too_large", headers=CLOSE
        )
        await proxy_refuse(scope, receive, send, error)
    else:
        await respond(send, 431, orjson.dumps({"detail": message}), CLOSE)


# WARDEN_ROLE: "gateway" serves /v1 only, "api" everything else, "all" both;
# every role serves its health and its metrics.
EVERY_ROLE = ("/healthz", "/readyz", "/metrics")
SERVES_PROXY = settings.SERVICE_ROLE in ("all", "gateway")
SERVES_SITE = settings.SERVICE_ROLE in ("all", "api")


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
        return
    scope = untrusted_forwarding_removed(scope)
    if scope["type"] == "http" and header_bytes(scope) > MAX_HEADER_BYTES:
        await refuse_large_headers(scope, receive, send)
    elif scope["type"] == "http" and is_proxy_path(scope["path"]):
        if SERVES_PROXY:
            await proxy_application(scope, receive, send)
        else:
            await not_served(send, PROXY_NOT_SERVED)
    elif SERVES_SITE or scope.get("path") in EVERY_ROLE:
        await with_body_deadline(django_application, scope, receive, send)
    else:
        await not_served(send, SITE_NOT_SERVED)


async def with_body_deadline(app, scope, receive, send) -> None:
    """Run ``app`` with PROXY_BODY_TIMEOUT for the request body to arrive, as
    the proxy has: past it the app is told the client left, and the client
    gets a JSON 408 and a closed connection instead of holding a worker."""
    if scope["type"] != "http":
        await app(scope, receive, send)
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.PROXY_BODY_TIMEOUT
    state = {"body_done": False, "expired": False, "started": False}

    async def timed_receive():
        if state["body_done"]:
            return await receive()  # Django waits here for a disconnect
        try:
            async with asyncio.timeout_at(deadline):
                message = await receive()
        except TimeoutError:
            state["expired"] = True
            return {"type": "http.disconnect"}
        if message["type"] != "http.request" or not message.get("more_body"):
            state["body_done"] = True
        return message

    async def watched_send(message):
        if message["type"] == "http.response.start":
            state["started"] = True
        await send(message)

    await app(scope, timed_receive, watched_send)
    if state["expired"] and not state["started"]:
        seconds = settings.PROXY_BODY_TIMEOUT
        detail = f"The request body did not arrive within {seconds:g} seconds."
        await respond(send, 408, orjson.dumps({"detail": detail}), CLOSE)


PROXY_NOT_SERVED = orjson.dumps(
    {
        "error": {
            "message": "This server does not serve /v1; use the gateway's address.",
            "type": "invalid_request_error",
            "param": None,
            "code": "not_found",
        }
    }
)
SITE_NOT_SERVED = orjson.dumps(
    {"detail": "This server serves /v1 only; use the api's address."}
)


async def not_served(send, body: bytes) -> None:
    await respond(send, 404, body)


async def respond(send, status: int, body: bytes, extra=None) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
        *((k.encode(), v.encode()) for k, v in (extra or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
