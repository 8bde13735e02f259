"""Exports: contents that parse back, an audit record of each, inert CSV cells."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

from django.urls import reverse

import pytest
from asgiref.sync import async_to_sync

from audit import export
from audit.models import AuditEvent
from audit.selectors import EventFilters, newest_seq
from audit.tests.review_people import all_events, event, make_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return make_people()


def body(response) -> bytes:
    """Read a streamed response the way the ASGI handler does, asynchronously."""

    async def read() -> bytes:
        return b"".join([part async for part in response])

    return async_to_sync(read)()


def csv_rows(response) -> list[dict[str, str]]:
    text = body(response).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def page_export(client, people, format, **query):
    url = reverse(f"audit:export_{format}", kwargs={"org": people.slug})
    return client.get(url, query)


def api_export(client, people, **query):
    url = reverse("api-audit-export", kwargs={"org": people.slug})
    return client.get(url, query)


def exports_of(people) -> list[AuditEvent]:
    return [e for e in all_events(people.organization) if e.action == "audit.exported"]


def test_csv_export_parses_back_to_the_events(client, people):
    for n in range(3):
        event(people.organization, "thing.done", target_id=n, after={"n": n})
    client.force_login(people.admin)
    response = page_export(client, people, "csv", action="thing.done")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert not response.has_header("Content-Length")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"audit-{people.slug}-" in disposition and disposition.endswith('.csv"')

    rows = csv_rows(response)
    assert [r["target_id"] for r in rows] == ["2", "1", "0"]
    stored = {e.seq: e for e in all_events(people.organization)}
    for row in rows:
        original = stored[int(row["seq"])]
        assert row["hash"] == original.hash and row["after"] == original.after
        assert row["created_at"] == original.created_at.isoformat()


def test_json_export_is_one_array_that_matches_the_api(client, people):
    for n in range(3):
        event(people.organization, "thing.done", target_id=n, before={"n": n})
    client.force_login(people.owner)
    response = page_export(client, people, "json", action="thing.done")
    assert response["Content-Type"] == "application/json"
    documents = json.loads(body(response))
    assert [d["target_id"] for d in documents] == ["2", "1", "0"]
    assert documents[0]["before"] == {"n": 2}

    api_url = reverse("api-audit-event", args=[people.slug, documents[0]["id"]])
    from_api = client.get(api_url).json()
    from_api.pop("changes")
    assert from_api == documents[0]


def test_an_export_with_nothing_to_export_is_still_valid(client, people):
    client.force_login(people.owner)
    none = {"action": "nothing.here"}
    assert json.loads(body(page_export(client, people, "json", **none))) == []
    csv_text = body(page_export(client, people, "csv", **none)).decode()
    assert csv_text.splitlines() == [",".join(export.COLUMNS)]


def test_each_export_is_audited_with_its_format_and_filters(client, people):
    client.force_login(people.admin)
    before = newest_seq(people.organization)
    response = page_export(client, people, "csv", action="api_key.", q="ci")
    body(response)
    (record,) = exports_of(people)
    detail = json.loads(record.detail)
    assert detail == {
        "format": "csv",
        "filters": {"action": "api_key.", "q": "ci"},
        "through_seq": before,
    }
    assert record.actor_type == "user" and record.actor_id == str(people.admin.pk)
    assert record.actor_email == people.admin.email


def test_the_export_stops_at_the_newest_event_when_it_began(client, people):
    event(people.organization, "thing.done")
    client.force_login(people.owner)
    response = page_export(client, people, "json")
    event(people.organization, "thing.done", target_id="after the start")
    documents = json.loads(body(response))
    (record,) = exports_of(people)
    assert max(d["seq"] for d in documents) == record.seq - 1
    assert "after the start" not in {d["target_id"] for d in documents}


def test_csv_cells_that_a_spreadsheet_would_run_are_made_inert(client, people):
    formulas = ["=HYPERLINK(1)", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    for text in formulas:
        event(people.organization, "thing.done", target_id=text)
    event(people.organization, "=cmd|' /C calc'!A0", target_type="+t")
    client.force_login(people.owner)
    rows = csv_rows(page_export(client, people, "csv"))
    cells = [value for row in rows for value in row.values()]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert {"'" + t for t in formulas} <= {r["target_id"] for r in rows}
    assert "'=cmd|' /C calc'!A0" in {r["action"] for r in rows}


def test_the_api_export_takes_format_and_filters(client, people):
    event(people.organization, "api_key.created")
    event(people.organization, "member.added")
    client.force_login(people.owner)
    response = api_export(client, people, format="json", action="member.")
    assert response.status_code == 200
    assert [d["action"] for d in json.loads(body(response))] == ["member.added"]
    rows = csv_rows(api_export(client, people, format="csv", action="api_key."))
    assert [r["action"] for r in rows] == ["api_key.created"]
    assert len(exports_of(people)) == 2


def test_api_export_errors_are_drf_json_and_record_nothing(client, people):
    client.force_login(people.owner)
    response = api_export(client, people, format="xml")
    assert response.status_code == 400 and "format" in response.json()
    response = api_export(client, people, format="csv", to="someday")
    assert response.status_code == 400 and "to" in response.json()
    client.force_login(people.viewer)
    response = api_export(client, people, format="csv")
    assert response.status_code == 403 and "detail" in response.json()
    client.logout()
    response = api_export(client, people, format="csv")
    assert response.status_code in (401, 403) and "detail" in response.json()
    assert exports_of(people) == []


def test_page_export_refuses_viewers_and_bad_filters_without_a_record(client, people):
    client.force_login(people.viewer)
    assert page_export(client, people, "csv").status_code == 403
    client.force_login(people.owner)
    response = page_export(client, people, "json", **{"from": "tomorrowish"})
    assert response.status_code == 400 and b"Enter a date" in response.content
    assert exports_of(people) == []


def test_another_organisations_events_never_reach_an_export(client, people):
    theirs = make_people()
    event(theirs.organization, "secret.thing")
    event(people.organization, "thing.done")
    client.force_login(people.owner)
    documents = json.loads(body(page_export(client, people, "json")))
    assert "secret.thing" not in {d["action"] for d in documents}
    assert page_export(client, theirs, "json").status_code == 404


def test_streaming_memory_follows_the_chunk_not_the_trail(people):
    base = newest_seq(people.organization)
    for n in range(1200):
        event(people.organization, "thing.done", after={"n": n, "pad": "x" * 200})

    def measure(through_seq: int) -> tuple[int, int]:
        """Bytes streamed and peak memory while streaming, for events up to seq."""
        started = export.Export(
            people.organization, "json", EventFilters(), through_seq
        )

        async def consume() -> tuple[int, int]:
            total = 0
            tracemalloc.start()
            try:
                async for piece in export.json_stream(started, chunk_size=100):
                    total += len(piece)
                return total, tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

        return async_to_sync(consume)()

    measure(base + 100)  # warm up: first queries fill caches that stay
    small_total, small_peak = measure(base + 300)
    full_total, full_peak = measure(base + 1200)
    assert full_total > 3.5 * small_total
    assert full_peak < 1.5 * small_peak, (small_peak, full_peak)
