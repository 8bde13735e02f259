"""ASGI entry point: ``/v1/`` goes to the async proxy, everything else to Django."""

from __future__ import annotations

import os
import sys

from django.core.asgi import get_asgi_application

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


async def application(scope, receive, send):
    if scope["type"] == "http" and is_proxy_path(scope["path"]):
        await proxy_application(scope, receive, send)
    elif scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
    else:
        await django_application(scope, receive, send)
