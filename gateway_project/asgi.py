"""ASGI entry point: ``/v1/`` goes to the async proxy, everything else to Django."""

from __future__ import annotations

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
from proxy.lifespan import lifespan  # noqa: E402  (needs Django set up first)


def is_proxy_path(path: str) -> bool:
    """Return True for ``/v1`` and below, however the client spelled it."""
    normalised = "/" + path.lstrip("/").lower()
    return normalised == "/v1" or normalised.startswith("/v1/")


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
    if scope["type"] == "http" and is_proxy_path(scope["path"]):
        if SERVES_PROXY:
            await proxy_application(scope, receive, send)
        else:
            await not_served(send, PROXY_NOT_SERVED)
    elif SERVES_SITE or scope.get("path") in EVERY_ROLE:
        await django_application(scope, receive, send)
    else:
        await not_served(send, SITE_NOT_SERVED)


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
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
    ]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})
