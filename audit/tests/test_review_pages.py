"""The audit review pages: who sees them, what they show, how errors look."""

from __future__ import annotations

from django.urls import reverse

import pytest

from audit.tests.review_people import event, make_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return make_people()


def list_url(people, **query) -> str:
    url = reverse("audit:events", kwargs={"org": people.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def detail_url(people, event_id) -> str:
    return reverse("audit:event", kwargs={"org": people.slug, "event_id": event_id})


def test_signed_out_visitors_are_sent_to_sign_in(client, people):
    for url in (
        list_url(people),
        detail_url(people, 1),
        reverse("audit:export_csv", kwargs={"org": people.slug}),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_the_trail_lists_events_with_links_to_each(client, people):
    shown = event(people.organization, "api_key.created", target_type="keys.apikey")
    client.force_login(people.admin)
    response = client.get(list_url(people))
    assert response.status_code == 200
    html = response.content.decode()
    assert "api_key.created" in html
    assert detail_url(people, shown.pk) in html
    assert "export.csv" in html and "export.json" in html


def test_filters_narrow_the_list_and_follow_into_export_links(client, people):
    event(people.organization, "api_key.created")
    event(people.organization, "member.removed")
    client.force_login(people.owner)
    html = client.get(list_url(people, action="member.")).content.decode()
    assert "member.removed" in html and "api_key.created" not in html
    assert "export.csv?action=member." in html


def test_pages_link_to_older_and_newer_events(client, people):
    for n in range(5):
        event(people.organization, "thing.done", target_id=n)
    client.force_login(people.owner)
    first = client.get(list_url(people, action="thing.done", page_size=2))
    older = first.context["links"]["older"]
    assert (
        "before=" in older and "page_size=2" in older and "action=thing.done" in older
    )
    second = client.get(list_url(people) + older)
    assert second.status_code == 200
    assert [e.target_id for e in second.context["page"].events] == ["2", "1"]
    assert "newer" in second.context["links"]


def test_bad_filters_show_form_errors_not_a_crash(client, people):
    client.force_login(people.owner)
    response = client.get(list_url(people, **{"from": "last-tuesday"}))
    assert response.status_code == 400
    assert "Enter a date" in response.content.decode()
    response = client.get(list_url(people, page_size=5000))
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_get_403(client, people, role):
    recorded = event(people.organization)
    client.force_login(getattr(people, role))
    assert client.get(list_url(people)).status_code == 403
    assert client.get(detail_url(people, recorded.pk)).status_code == 403
    export = reverse("audit:export_json", kwargs={"org": people.slug})
    assert client.get(export).status_code == 403


def test_outsiders_get_404_for_the_organisation(client, people):
    recorded = event(people.organization)
    client.force_login(people.outsider)
    assert client.get(list_url(people)).status_code == 404
    assert client.get(detail_url(people, recorded.pk)).status_code == 404


def test_another_organisations_event_id_is_404_and_absent_from_lists(client, people):
    theirs = make_people()
    secret = event(theirs.organization, "secret.thing", after={"note": "hush"})
    client.force_login(people.owner)
    assert client.get(detail_url(people, secret.pk)).status_code == 404
    html = client.get(list_url(people, q="hush")).content.decode()
    assert "secret.thing" not in html
    # The other organisation's own owner sees it.
    client.force_login(theirs.owner)
    assert client.get(detail_url(theirs, secret.pk)).status_code == 200


def test_detail_shows_the_diff_and_the_chain(client, people):
    recorded = event(
        people.organization,
        "project.renamed",
        before={"name": "alpha", "region": "eu"},
        after={"name": "beta", "owner_note": "moved"},
    )
    client.force_login(people.admin)
    response = client.get(detail_url(people, recorded.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="change-changed"' in html and "&quot;beta&quot;" in html
    assert 'class="change-removed"' in html and 'class="change-added"' in html
    assert recorded.hash in html and recorded.prev_hash in html
