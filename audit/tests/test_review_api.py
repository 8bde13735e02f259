"""The audit trail API: filters, cursor pages, one event, DRF's error shapes."""

from __future__ import annotations

from django.urls import reverse

import pytest

from audit.tests.review_people import event, make_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return make_people()


def list_url(people) -> str:
    return reverse("api-audit-events", kwargs={"org": people.slug})


def detail_url(people, event_id) -> str:
    return reverse("api-audit-event", kwargs={"org": people.slug, "event_id": event_id})


def test_signed_out_callers_get_drf_json_not_a_redirect(client, people):
    response = client.get(list_url(people))
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_the_list_filters_and_parses_values(client, people):
    event(people.organization, "api_key.created", after={"name": "ci"})
    event(people.organization, "member.removed", outcome="denied")
    client.force_login(people.admin)
    body = client.get(list_url(people), {"action": "api_key."}).json()
    assert [e["action"] for e in body["results"]] == ["api_key.created"]
    assert body["results"][0]["after"] == {"name": "ci"}
    assert {"seq", "hash", "prev_hash", "created_at", "actor_email"} <= set(
        body["results"][0]
    )
    denied = client.get(list_url(people), {"outcome": "denied"}).json()["results"]
    assert [e["action"] for e in denied] == ["member.removed"]


def test_cursor_pages_cover_everything_once_while_events_arrive(client, people):
    for n in range(7):
        event(people.organization, "thing.done", target_id=n)
    client.force_login(people.owner)
    url, seen = list_url(people) + "?action=thing.done&page_size=3", []
    while url:
        body = client.get(url).json()
        seen += [e["target_id"] for e in body["results"]]
        event(people.organization, "thing.done", target_id="late")
        url = body["next"]
    assert seen == [str(n) for n in reversed(range(7))]


def test_page_size_is_capped_at_200(client, people):
    for n in range(205):
        event(people.organization, "thing.done", target_id=n)
    client.force_login(people.owner)
    body = client.get(list_url(people), {"page_size": 5000}).json()
    assert len(body["results"]) == 200 and body["next"]
    default = client.get(list_url(people)).json()
    assert len(default["results"]) == 50


def test_bad_filters_are_400_in_drf_shape(client, people):
    client.force_login(people.owner)
    response = client.get(list_url(people), {"from": "soon", "outcome": "maybe"})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"from", "outcome"}
    assert all(isinstance(messages, list) for messages in body.values())
    backwards = client.get(list_url(people), {"from": "2025-02-01", "to": "2025-01-01"})
    assert backwards.status_code == 400
    assert "non_field_errors" in backwards.json()


def test_detail_has_the_diff_and_chain_fields(client, people):
    recorded = event(
        people.organization,
        "project.renamed",
        before={"name": "alpha", "region": "eu"},
        after={"name": "beta"},
    )
    client.force_login(people.owner)
    body = client.get(detail_url(people, recorded.pk)).json()
    assert body["seq"] == recorded.seq and body["hash"] == recorded.hash
    assert body["prev_hash"] == recorded.prev_hash
    assert body["changes"] == [
        {"field": "name", "change": "changed", "before": "alpha", "after": "beta"},
        {"field": "region", "change": "removed", "before": "eu", "after": None},
    ]


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_get_403_json(client, people, role):
    recorded = event(people.organization)
    client.force_login(getattr(people, role))
    for url in (list_url(people), detail_url(people, recorded.pk)):
        response = client.get(url)
        assert response.status_code == 403
        assert "detail" in response.json()


def test_another_organisations_events_are_404_by_slug_and_by_id(client, people):
    theirs = make_people()
    secret = event(theirs.organization, "secret.thing")
    client.force_login(people.owner)
    assert client.get(detail_url(people, secret.pk)).status_code == 404
    assert client.get(list_url(theirs)).status_code == 404
    listed = client.get(list_url(people), {"page_size": 200}).json()["results"]
    assert secret.pk not in {e["id"] for e in listed}


def test_a_browser_gets_the_browsable_api_not_an_error(client, people):
    recorded = event(people.organization)
    client.force_login(people.owner)
    for url in (list_url(people), detail_url(people, recorded.pk)):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "params",
    [
        {"to": "9999-12-31"},
        {"to": "9999-12-31T23:59:59.999999"},
        {"from": "0001-01-01T00:00:00+05:00"},
        {"cursor": "cD1hYmM="},  # base64 of p=abc
        {"cursor": "not base64 at all"},
    ],
)
def test_hostile_values_are_400_not_500(client, people, params):
    client.force_login(people.owner)
    for url in (list_url(people), list_url(people) + "export"):
        response = client.get(url, {**params, "format": "json"})
        if "cursor" in params and url.endswith("export"):
            continue  # exports have no cursor
        assert response.status_code == 400, (url, response.content[:300])
        assert response["Content-Type"] == "application/json"


def test_format_is_never_a_renderer_switch_on_the_list(client, people):
    client.force_login(people.owner)
    for value in ("csv", "xml", "api"):
        response = client.get(list_url(people), {"format": value})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"


def test_unknown_api_paths_answer_in_json(client, people):
    client.force_login(people.owner)
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
