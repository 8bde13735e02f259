"""Readiness: whether this process can serve, by what it depends on.

Liveness is ``/healthz`` (the process answers); readiness is ``/readyz``:
the database answers, Redis (when configured) answers, and the master key
can seal and open a value. The answer names what failed, never why in
detail, and carries no version or secret. The checks run side by side and
must all answer within ``READINESS_TIMEOUT_SECONDS``: a database that hangs
makes the probe say "not ready" in time, instead of timing the probe out.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.db import connection, connections

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
    """The names of the checks that fail now, or do not answer in time."""
    runner = ThreadPoolExecutor(len(CHECKS), thread_name_prefix="readiness")
    futures = {name: runner.submit(_run, check) for name, check in CHECKS.items()}
    done, _ = wait(futures.values(), timeout=settings.READINESS_TIMEOUT_SECONDS)
    # A check still waiting finishes on its own thread; nobody waits for it.
    runner.shutdown(wait=False, cancel_futures=True)
    failed = []
    for name, future in futures.items():
        if future not in done:
            logger.warning("readiness: %s did not answer in time", name)
        elif (exc := future.exception()) is not None:
            logger.warning("readiness: %s failed (%s)", name, type(exc).__name__)
        else:
            continue
        failed.append(name)
    return failed


def _run(check: Callable[[], None]) -> None:
    try:
        check()
    finally:
        # The thread's database connection goes back now, not when it ends.
        connections.close_all()
