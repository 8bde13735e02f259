"""WSGI entry point for the dashboard and management API only.

The ``/v1/`` proxy needs the ASGI application (``gateway_project.asgi``).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_project.settings")
application = get_wsgi_application()
