"""Readiness: whether this process can serve, by what it depends on.

Liveness is ``/healthz`` (the process answers); readiness is ``/readyz``:
the database answers, Redis (when configured) answers, and the master key
can seal and open a value. The answer names what failed, never why in
detail, and carries no version or secret.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from django.conf import settings
from django.db import connection

from gateway_project.store import store

logger = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    if settings.REDIS_URL and not store().ping():
        raise RuntimeError("no answer")


def _master_key() -> None:
    from providers import crypto, transit

    probe = os.urandom(16)
    if settings.MASTER_KEY_BACKEND == crypto.TRANSIT_BACKEND:
        key_id, wrapped = transit.wrap(probe, 0)
        if transit.unwrap(key_id, wrapped, 0) != probe:
            raise RuntimeError("round trip failed")
        return
    sealed = crypto.seal_text(probe.hex(), "readiness")
    if crypto.open_text(sealed, "readiness") != probe.hex():
        raise RuntimeError("round trip failed")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "redis": _redis,
    "master_key": _master_key,
}


def failing() -> list[str]:
    """The names of the checks that fail now."""
    failed = []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure means not ready
            logger.warning("readiness: %s failed (%s)", name, type(exc).__name__)
            failed.append(name)
    return failed
