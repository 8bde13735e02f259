"""Shared fixtures: a fake provider, a real gateway server process, tenants."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

import httpx
import openai
import pytest

from tests.factories import make_tenant
from tests.fake_upstream import FakeUpstream

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tenant(fake_upstream):
    """An organisation whose ``openai`` credential points at the fake provider."""
    return make_tenant(upstream_url=fake_upstream.base_url + "/v1")


@pytest.fixture
def client(gateway, tenant):
    """The official openai SDK, pointed at the gateway with the tenant's key."""
    return openai.OpenAI(base_url=gateway.v1, api_key=tenant.key, max_retries=0)


@pytest.fixture(scope="session")
def fake_upstream():
    with FakeUpstream() as upstream:
        yield upstream


@dataclass
class Gateway:
    base_url: str
    log_path: Path
    process: subprocess.Popen
    verify: ssl.SSLContext | bool = True  # what clients check its certificate with

    @property
    def v1(self) -> str:
        return self.base_url + "/v1"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{auth}{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def _environment(overrides: dict[str, str]) -> dict[str, str]:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="gateway_project.test_settings",
        DATABASE_URL=_database_url(),
        CACHE_KEY_PREFIX=settings.CACHES["default"].get("KEY_PREFIX", ""),
        UPSTREAM_READ_TIMEOUT="2",
        LOG_LEVEL="DEBUG",
    )
    env.update(overrides)
    return env


def start_gateway(log_path: Path, **overrides: str) -> Gateway:
    """Start a gateway server process on the test database; stop it with stop()."""
    port = _free_port()
    # Forwarding headers are the application's to judge, as under gunicorn.
    command = [
        sys.executable, "-m", "uvicorn", "gateway_project.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "debug",
        "--no-proxy-headers",
    ]  # fmt: skip
    server_url = f"http://127.0.0.1:{port}"
    return _launch(command, _environment(overrides), log_path, server_url, True)


def start_served_gateway(
    log_path: Path,
    verify: ssl.SSLContext | bool = True,
    workers: int = 1,
    **overrides: str,
) -> Gateway:
    """Start the gateway the way ``make run`` serves it: gunicorn, its config file.

    With ``TLS_CERT_FILE`` and ``TLS_KEY_FILE`` among ``overrides`` it speaks
    https, and ``verify`` is what its certificate is checked with.
    """
    port = _free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
        "gateway_project.asgi:application", "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}", "--no-control-socket",
    ]  # fmt: skip
    scheme = "https" if "TLS_CERT_FILE" in overrides else "http"
    server_url = f"{scheme}://127.0.0.1:{port}"
    return _launch(command, _environment(overrides), log_path, server_url, verify)


def _launch(
    command: list[str],
    env: dict[str, str],
    log_path: Path,
    base_url: str,
    verify: ssl.SSLContext | bool,
) -> Gateway:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Gateway(base_url, log_path, process, verify)
    try:
        _wait_until_ready(server)
    except BaseException:
        stop(server)
        raise
    return server


def stop(server: Gateway) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def gateway(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real gateway server process on the test database."""
    server = start_gateway(tmp_path_factory.mktemp("gateway") / "gateway.log")
    yield server
    stop(server)


@pytest.fixture
def second_gateway(gateway, tmp_path):
    """Another gateway process on the same database and Redis."""
    server = start_gateway(tmp_path / "second.log")
    yield server
    stop(server)


def _wait_until_ready(server: Gateway) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("gateway exited:\n" + server.log_text())
        try:
            answer = httpx.get(
                server.base_url + "/healthz", timeout=1, verify=server.verify
            )
            if answer.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gateway did not start:\n" + server.log_text())


@pytest.fixture(autouse=True)
def _settle_gateway_usage(request):
    """Let the gateway write the usage records a test caused before teardown.

    The transactional teardown truncates every table; a usage write landing at
    the same moment can deadlock with it and fail the test.
    """
    yield
    if "gateway" not in request.fixturenames:
        return
    from proxy.models import UsageRecord

    last, stable = -1, 0
    deadline = time.monotonic() + 5
    while stable < 2 and time.monotonic() < deadline:
        count = UsageRecord.objects.count()
        stable = stable + 1 if count == last else 0
        last = count
        time.sleep(0.03)
