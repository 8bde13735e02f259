"""WSGI entry point for the dashboard and management API only.

The ``/v1/`` proxy needs the ASGI application (``gateway_project.asgi``).
"""

import os
import sys

from django.core.wsgi import get_wsgi_application

from gateway_project.env import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_project.settings")
try:
    application = get_wsgi_application()
    from accounts.database import refuse_unsafe_role

    refuse_unsafe_role()
except ConfigError as exc:
    print(f"warden: configuration error: {exc}", file=sys.stderr)  # noqa: T201
    sys.exit(3)  # gunicorn's "worker failed to boot": no restart loop
