"""Liveness and readiness, against the real database, Redis and keyring."""

from __future__ import annotations

import threading

from django.test import Client

import pytest

from gateway_project import health

pytestmark = pytest.mark.django_db


def test_ready_when_everything_answers(client):
    answer = client.get("/readyz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ready"}


def test_not_ready_names_what_fails_and_nothing_else(client, monkeypatch, settings):
    settings.MASTER_KEYS = []

    answer = client.get("/readyz")

    assert answer.status_code == 503
    assert answer.json() == {"status": "not ready", "failing": ["master_key"]}


def test_redis_that_does_not_answer_is_not_ready(client, monkeypatch, settings):
    settings.REDIS_URL = settings.REDIS_URL or "redis://127.0.0.1:6379/15"

    def down() -> bool:
        raise ConnectionError("refused")

    monkeypatch.setattr(health.store(), "ping", down)

    answer = client.get("/readyz")

    assert answer.status_code == 503 and answer.json()["failing"] == ["redis"]


def test_liveness_needs_nothing(client, monkeypatch):
    monkeypatch.setattr(health, "CHECKS", {"x": lambda: 1 / 0})

    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 503


def test_a_check_that_hangs_is_not_ready_in_time(client, monkeypatch, settings):
    settings.READINESS_TIMEOUT_SECONDS = 0.2
    released = threading.Event()
    checks = dict(health.CHECKS, database=lambda: released.wait(30))
    monkeypatch.setattr(health, "CHECKS", checks)
    try:
        answer = client.get("/readyz")
    finally:
        released.set()

    assert answer.status_code == 503
    assert answer.json() == {"status": "not ready", "failing": ["database"]}


@pytest.fixture
def redis_out_of_reach(settings):
    # Nothing listens on port 1 of the loopback address.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }


def test_the_api_answers_503_json_while_redis_is_out_of_reach(redis_out_of_reach):
    answer = Client(raise_request_exception=False).get("/api/v1/orgs/")

    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    assert answer.json() == {
        "detail": "The service is temporarily unavailable; try again shortly."
    }


def test_sign_in_answers_503_while_redis_is_out_of_reach(redis_out_of_reach):
    answer = Client(raise_request_exception=False).post(
        "/accounts/login/", {"login": "someone", "password": "whatever"}
    )

    assert answer.status_code == 503
    assert b"temporarily unavailable" in answer.content
