"""The suite's own promise: under make test it runs on PostgreSQL and Redis."""

from django.db import connection

import pytest

from gateway_project.store import RedisStore, store

pytestmark = pytest.mark.services


def test_database_is_postgresql():
    assert connection.vendor == "postgresql"


def test_store_is_redis_and_answers():
    shared = store()

    assert isinstance(shared, RedisStore)
    shared.set("suite-probe", b"1", 5)
    assert shared.get("suite-probe") == b"1"
    shared.delete("suite-probe")
