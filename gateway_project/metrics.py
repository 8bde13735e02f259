"""``/metrics`` for Prometheus, and the folder gunicorn's workers share for it.

The proxy's metrics are defined in proxy/metrics.py. Under gunicorn, every
worker writes its values to files of its own in one folder (prometheus_client's
multiprocess mode, switched on by ``PROMETHEUS_MULTIPROC_DIR``, which
gunicorn.conf.py sets before any worker starts); a scrape, answered by any
worker, adds up the files of all of them. A single process (``uvicorn``)
keeps its values in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import tempfile
from pathlib import Path

from gateway_project import secret_sources

FOLDER_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Shorter tokens are refused at start-up.
TOKEN_MIN_LENGTH = 24


def token_accepted(authorization: str) -> bool | None:
    """Return None when no ``METRICS_TOKEN`` is set, else whether
    ``authorization`` (the header) carries it."""
    expected = secret_sources.lookup("METRICS_TOKEN")
    if not expected:
        return None
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer":
        given = ""
    # Digests first: compare_digest's time then depends on neither length.
    return hmac.compare_digest(_digest(given.strip()), _digest(expected))


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def exposition() -> tuple[bytes, str]:
    """Return the metrics of every worker of this server, and their media type."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    folder = os.environ.get(FOLDER_VARIABLE)
    if not folder:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)
    return generate_latest(registry), CONTENT_TYPE_LATEST


# The gunicorn master's side. Nothing here may import prometheus_client before
# the folder is set: workers are forked from the master, and the library picks
# in-memory or file-backed values when it is first imported.


def share_folder(configured: str) -> bool:
    """Point the workers to be forked at the metrics folder.

    Use ``configured`` (``METRICS_DIR``), or else a new private folder; return
    whether the folder is a new one, to be removed when the server stops. A
    folder already set (by a configuration reload) is kept.
    """
    if os.environ.get(FOLDER_VARIABLE):
        return False
    if configured:
        Path(configured).mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ[FOLDER_VARIABLE] = configured
        return False
    os.environ[FOLDER_VARIABLE] = tempfile.mkdtemp(prefix="warden-metrics-")
    return True


def empty_folder() -> None:
    """Remove the files of a previous run: their counts would be added in."""
    for path in Path(os.environ[FOLDER_VARIABLE]).glob("*.db"):
        path.unlink()


def worker_exited(pid: int) -> None:
    """Drop a dead worker's gauges (its open streams are no longer open)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, os.environ[FOLDER_VARIABLE])


def remove_folder() -> None:
    shutil.rmtree(os.environ[FOLDER_VARIABLE], ignore_errors=True)
