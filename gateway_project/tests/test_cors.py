"""CORS: only the configured origins, with credentials; anything else,
null and look-alikes get no CORS headers; '*' cannot be configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

ALLOWED = "https://dash.example.test"


@pytest.fixture(autouse=True)
def origins(settings):
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]


def preflight(client, origin: str, path: str = "/api/v1/orgs/"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, x-csrftoken",
    )


def test_an_allowed_origin_gets_credentials_methods_and_max_age(client):
    answer = preflight(client, ALLOWED)

    assert answer["Access-Control-Allow-Origin"] == ALLOWED
    assert answer["Access-Control-Allow-Credentials"] == "true"
    assert answer["Access-Control-Max-Age"] == "86400"
    assert set(answer["Access-Control-Allow-Methods"].split(", ")) == {
        "GET", "POST", "PUT", "PATCH", "DELETE",
    }  # fmt: skip


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "https://dash.example.test.evil.example",
        "http://dash.example.test",
        "https://localhost.evil.example",
    ],
)
def test_other_origins_get_no_cors_headers(client, origin):
    answer = preflight(client, origin)
    simple = client.get("/api/v1/orgs/", HTTP_ORIGIN=origin)

    for response in (answer, simple):
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Credentials" not in response


def test_pages_outside_the_api_and_accounts_send_none(client):
    assert "Access-Control-Allow-Origin" not in client.get("/", HTTP_ORIGIN=ALLOWED)


@pytest.mark.parametrize("value", ["*", "null", "https://*.example.test"])
def test_a_wildcard_or_null_origin_stops_start_up(value):
    root = Path(__file__).resolve().parents[2]
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="gateway_project.test_settings",
        CORS_ALLOWED_ORIGINS=value,
    )
    run = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode != 0
    assert "CORS_ALLOWED_ORIGINS" in run.stderr
