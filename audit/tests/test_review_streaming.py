"""A real server streams a large export: chunked, never whole in memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from accounts.services import organization_create
from accounts.tenancy import tenant_context
from audit.tests.review_people import PASSWORD, event, make_user
from tests.conftest import start_gateway, stop

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = 5000


@pytest.fixture
def server(django_db_setup, tmp_path):
    gateway = start_gateway(tmp_path / "gateway.log")
    yield gateway
    stop(gateway)


@contextmanager
def signed_in(base_url: str, username: str) -> Iterator[httpx.Client]:
    """An HTTP client signed in through the sign-in form, CSRF token and all."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        http.get("/accounts/login/").raise_for_status()
        response = http.post(
            "/accounts/login/",
            data={
                "login": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": http.cookies["csrftoken"],
            },
        )
        assert response.status_code == 302, response.text
        yield http


def test_a_large_export_arrives_in_chunks_and_parses(server):
    organization = organization_create(slug="streamed")
    owner = make_user("streamer", organization, "owner", password=PASSWORD)
    # A hundred to a transaction: one transaction for all of them is slower
    # still, as each append rewrites the chain's head row inside it.
    for start in range(0, EVENTS, 100):
        with tenant_context(organization):
            for n in range(start, start + 100):
                event(organization, "thing.done", target_id=n, after={"n": n})

    with signed_in(server.base_url, owner.username) as http:
        url = "/orgs/streamed/audit/export.json"
        with http.stream("GET", url, params={"action": "thing.done"}) as response:
            assert response.status_code == 200
            assert "content-length" not in response.headers
            assert response.headers["transfer-encoding"] == "chunked"
            pieces = list(response.iter_raw())
        documents = json.loads(b"".join(pieces))
        assert len(pieces) > 5
        assert [d["target_id"] for d in documents] == [
            str(n) for n in reversed(range(EVENTS))
        ]

        response = http.get("/orgs/streamed/audit/export.csv?action=thing.done")
        rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
        assert len(rows) == EVENTS and rows[-1]["target_id"] == "0"

    # Django warns, and reads everything first, when it streams a sync iterator.
    assert "must consume" not in server.log_text()
