"""REDIS_URL=rediss://... with REDIS_CA_FILE: the cache (and with it every
limit counted there) and the proxy's store all speak TLS to a redis-server
started here with certificates of a CA made for the test, and refuse a
server whose certificate another CA signed."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from gateway_project.tests.certificates import TestCA
from gateway_project.tests.local_servers import free_port, missing
from gateway_project.tests.test_env import assert_one_line_error, manage

PASSWORD = "tls-redis-password-4d1e"

# Run by manage.py shell in a process configured only by the environment.
ROUND_TRIPS = """
import asyncio
from django.core.cache import cache
from gateway_project.health import failing
from gateway_project.store import store

cache.set("tls-cache", "from-cache", 60)
store().set("tls-store", b"from-store", 60)

async def from_async():
    await store().aset("tls-async", b"from-async", 60)
    try:
        return await store().aget("tls-async")
    finally:
        await store().aclose()

print(cache.get("tls-cache"), store().get("tls-store").decode(),
      asyncio.run(from_async()).decode(), failing())
"""


@dataclass
class TLSRedis:
    port: int
    ca: TestCA

    @property
    def url(self) -> str:
        return f"rediss://:{PASSWORD}@127.0.0.1:{self.port}/0"


@pytest.fixture
def tls_redis(tmp_path) -> Iterator[TLSRedis]:
    """A redis-server with a TLS port only, its certificate signed by a test CA."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing("needs redis-server (apt-get install redis-server)")
    ca = TestCA(tmp_path)
    files = ca.server("redis")
    port = free_port()
    server = subprocess.Popen(
        [
            binary, "--bind", "127.0.0.1", "--port", "0",
            "--tls-port", str(port), "--tls-cert-file", str(files.cert),
            "--tls-key-file", str(files.key), "--tls-ca-cert-file", str(ca.cert_file),
            "--tls-auth-clients", "no", "--requirepass", PASSWORD,
            "--save", "", "--appendonly", "no", "--dir", str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_tls_redis(port, ca.cert_file, server)
        yield TLSRedis(port, ca)
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_for_tls_redis(port: int, ca_file: Path, server: subprocess.Popen) -> None:
    client = redis.Redis(
        port=port, password=PASSWORD, ssl=True, ssl_ca_certs=str(ca_file)
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("redis-server stopped while starting (built with TLS?)")
        try:
            client.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not answer over TLS within 30 seconds")


def test_the_cache_and_the_store_speak_tls_with_the_ca_file(tls_redis, tmp_path):
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        ROUND_TRIPS,
        WARDEN_DATA_DIR=str(tmp_path),
        REDIS_URL=tls_redis.url,
        REDIS_CA_FILE=str(tls_redis.ca.cert_file),
    )

    assert result.stdout.split() == ["from-cache", "from-store", "from-async", "[]"], (
        result.stderr
    )


def test_a_redis_certificate_from_another_ca_is_refused(tls_redis, tmp_path):
    stranger = TestCA(tmp_path, name="stranger")

    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.core.cache import cache; cache.set('x', 1)",
        WARDEN_DATA_DIR=str(tmp_path),
        REDIS_URL=tls_redis.url,
        REDIS_CA_FILE=str(stranger.cert_file),
    )

    assert result.returncode != 0
    assert "certificate verify failed" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


def test_redis_without_the_ca_file_does_not_trust_a_private_ca(tls_redis, tmp_path):
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from gateway_project.store import store; store().ping()",
        WARDEN_DATA_DIR=str(tmp_path),
        REDIS_URL=tls_redis.url,
    )

    assert result.returncode != 0
    assert "certificate verify failed" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


def test_a_redis_ca_file_with_a_plain_redis_url_stops_start_up(tmp_path):
    ca = TestCA(tmp_path)

    result = manage(
        "check",
        WARDEN_DATA_DIR=str(tmp_path),
        REDIS_URL="redis://127.0.0.1:6379/0",
        REDIS_CA_FILE=str(ca.cert_file),
    )

    assert_one_line_error(result, "REDIS_CA_FILE")
