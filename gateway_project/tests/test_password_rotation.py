"""Rotated database and Redis passwords are used by new connections, no restart.

Each test starts a private server on a free port of 127.0.0.1 that checks
passwords (the shared test servers trust every local connection, so they
could not tell a wrong password from a right one), changes the password on
the server and in the secret source, and opens new connections. Without the
server binaries the tests skip, unless REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator

from django.core.cache.backends.redis import RedisCache
from django.db.utils import ConnectionHandler

import psycopg
import pytest
import redis

from gateway_project import secret_sources
from gateway_project.passwords import SecretPasswordConnection, redis_connection
from gateway_project.store import RedisStore
from gateway_project.tests.local_servers import (
    SUPERUSER_PASSWORD,
    free_port,
    missing,
    postgres_cluster,
)
from gateway_project.tests.test_env import manage
from gateway_project.tests.test_secret_sources import FakeSource


@pytest.fixture
def secrets(monkeypatch) -> FakeSource:
    """The process's secret store, over a source the test rotates."""
    source = FakeSource()
    store = secret_sources.SecretStore(source, ttl=0, spawn=lambda work: work())
    monkeypatch.setattr(secret_sources, "_store", store)
    return source


def rotate(source: FakeSource, name: str, value: str) -> None:
    source.values[name] = value
    secret_sources.lookup(name)  # past the cache time: refreshed here, inline


# --- PostgreSQL ------------------------------------------------------------------


@pytest.fixture
def postgres() -> Iterator[int]:
    """Start a PostgreSQL cluster with scram-sha-256 logins; yield its port."""
    with postgres_cluster() as port:
        yield port


def as_superuser(port: int, statement: str) -> None:
    with psycopg.connect(
        host="127.0.0.1",
        port=port,
        user="postgres",
        password=SUPERUSER_PASSWORD,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(statement)


def pooled_databases(port: int, password: str) -> ConnectionHandler:
    """Connections configured as settings.py configures PostgreSQL."""
    database = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": "wsec_app",
        "PASSWORD": password,
        "HOST": "127.0.0.1",
        "PORT": port,
        "CONN_MAX_AGE": 0,
        "OPTIONS": {
            "pool": {
                "min_size": 1,
                "max_size": 4,
                "timeout": 5,
                "connection_class": SecretPasswordConnection,
            }
        },
    }
    dummy = {"ENGINE": "django.db.backends.dummy"}
    return ConnectionHandler({"default": dummy, "wsec_rotation": database})


def current_user(connections: ConnectionHandler) -> str:
    with connections["wsec_rotation"].cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


def test_new_database_connections_use_the_rotated_password(
    postgres, secrets, django_db_blocker
):
    as_superuser(postgres, "CREATE ROLE wsec_app LOGIN PASSWORD 'first-password'")
    secrets.values["DATABASE_PASSWORD"] = "first-password"
    # Two handlers stand for two request threads: they share one pool.
    first = pooled_databases(postgres, "first")
    second = pooled_databases(postgres, "first")
    with django_db_blocker.unblock():
        try:
            assert current_user(first) == "wsec_app"

            as_superuser(postgres, "ALTER ROLE wsec_app PASSWORD 'second-password'")
            rotate(secrets, "DATABASE_PASSWORD", "second-password")
            # The first connection is still checked out, so the pool opens
            # another one, with the rotated password.
            assert current_user(second) == "wsec_app"
            stats = first["wsec_rotation"].pool.get_stats()
            assert stats["pool_size"] >= 2 and "connections_errors" not in stats
        finally:
            first["wsec_rotation"].close()
            second["wsec_rotation"].close()
            first["wsec_rotation"].close_pool()

    with pytest.raises(psycopg.OperationalError, match="password authentication"):
        psycopg.connect(
            host="127.0.0.1",
            port=postgres,
            user="wsec_app",
            password="first-password",
            dbname="postgres",
        ).close()


# --- Redis -----------------------------------------------------------------------


@pytest.fixture
def redis_port(tmp_path) -> Iterator[int]:
    """Start a redis-server that requires the password "first-password"."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing("needs redis-server (apt-get install redis-server)")
    port = free_port()
    server = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--requirepass",
            "first-password",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_redis(port, server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_for_redis(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("redis-server stopped while starting")
        try:
            redis.Redis(port=port, password="first-password").ping()
            return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not answer within 30 seconds")


def store_round_trip(store: RedisStore, key: str) -> bytes | None:
    store.set(key, b"sync", ttl=60)

    async def both() -> bytes | None:
        await store.aset(key + ":async", b"async", ttl=60)
        try:
            return await store.aget(key + ":async")
        finally:
            await store.aclose()

    return asyncio.run(both()) if store.get(key) == b"sync" else None


def test_new_redis_connections_use_the_rotated_password(redis_port, secrets):
    secrets.values["REDIS_PASSWORD"] = "first-password"
    url = f"redis://127.0.0.1:{redis_port}/0"
    store = RedisStore(url, "wsec:")
    location, options = redis_connection(url)
    assert store_round_trip(store, "before") == b"async"
    RedisCache(location, {"OPTIONS": options}).set("before", 1)

    redis.Redis(port=redis_port, password="first-password").config_set(
        "requirepass", "second-password"
    )
    rotate(secrets, "REDIS_PASSWORD", "second-password")
    # Connections made before stay logged in; drop them so that every call
    # below opens a new one. A new event loop gets a new pool too.
    store._sync.connection_pool.disconnect()
    assert store_round_trip(store, "after") == b"async"
    # Django makes a cache client per thread: a new one, from the same options.
    cache = RedisCache(location, {"OPTIONS": options})
    cache.set("after", 2)
    assert cache.get("before") == 1 and cache.get("after") == 2

    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=redis_port, password="first-password").ping()


def test_redis_url_keeps_no_password_beside_the_provider(secrets):
    assert redis_connection("redis://cache:6379/0") == ("redis://cache:6379/0", {})

    rotate(secrets, "REDIS_PASSWORD", "from-the-source")
    location, options = redis_connection("rediss://app:in-the-url@cache:6380/2")
    assert location == "rediss://cache:6380/2"
    assert options["credential_provider"].get_credentials() == (
        "app",
        "from-the-source",
    )


def test_settings_hand_the_passwords_to_the_connections(tmp_path):
    script = (
        "from django.conf import settings as s\n"
        "cache = s.CACHES['default']\n"
        "pool = s.DATABASES['default']['OPTIONS']['pool']\n"
        "provider = cache['OPTIONS']['credential_provider']\n"
        "print(cache['LOCATION'], type(provider).__name__,"
        " pool['connection_class'].__name__)\n"
    )
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        script,
        WARDEN_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://app@127.0.0.1:1/warden",
        DATABASE_PASSWORD="db-pass",
        REDIS_URL="redis://127.0.0.1:1/0",
        REDIS_PASSWORD="redis-pass",
    )
    assert result.stdout.split() == [
        "redis://127.0.0.1:1/0",
        "SecretRedisCredentials",
        "SecretPasswordConnection",
    ], result.stderr
