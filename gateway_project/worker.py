"""The gunicorn worker Warden is served with: uvicorn, with two changes.

Forwarding headers are left to the application, which believes them only from
``TRUSTED_PROXIES`` (``gateway_project/clientaddr.py``); uvicorn's own handling
would take X-Forwarded-For and -Proto from any peer on 127.0.0.1. With a
certificate (gunicorn's ``certfile`` and ``keyfile``, set from
``TLS_CERT_FILE`` and ``TLS_KEY_FILE`` by ``gunicorn.conf.py``), nothing older
than TLS 1.2 is accepted.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

from uvicorn.config import Config
from uvicorn_worker import UvicornWorker as BaseWorker


class UvicornWorker(BaseWorker):
    CONFIG_KWARGS = {**BaseWorker.CONFIG_KWARGS, "proxy_headers": False}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config.is_ssl:
            self.config.ssl_context_factory = tls_server_context


def tls_server_context(
    config: Config, default: Callable[[], ssl.SSLContext]
) -> ssl.SSLContext:
    context = default()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
