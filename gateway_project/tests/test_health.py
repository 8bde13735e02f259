"""Liveness and readiness, against the real database, Redis and keyring."""

from __future__ import annotations

import threading

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
