"""ASGI entry point: ``/v1/`` goes to the async proxy, everything else to Django."""

from __future__ import annotations

import os
import sys

from django.core.asgi import get_asgi_application

from gateway_project.env import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_project.settings")
try:
    django_application = get_asgi_application()
except ConfigError as exc:
    sys.exit(f"warden: configuration error: {exc}")

from proxy.app import application as proxy_application  # noqa: E402
from proxy.lifespan import lifespan  # noqa: E402  (needs Django set up first)


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"].startswith("/v1/"):
        await proxy_application(scope, receive, send)
    elif scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
    else:
        await django_application(scope, receive, send)
