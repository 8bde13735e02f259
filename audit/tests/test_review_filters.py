"""Filtering, searching and paging an organisation's audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.http import Http404, QueryDict

import pytest

from accounts.models import Organization
from accounts.services import organization_create
from audit.context import Actor
from audit.forms import EventFilterForm
from audit.selectors import (
    EventFilters,
    diff,
    event_detail,
    event_page,
    newest_seq,
)
from audit.tests.review_people import event, event_at

pytestmark = pytest.mark.django_db

JAN = datetime(2025, 1, 10, 9, 30, tzinfo=UTC)
FEB = datetime(2025, 2, 10, 9, 30, tzinfo=UTC)
MAR = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)


@dataclass
class Trail:
    organization: Organization
    base: int  # events up to this seq were not made by the test

    @classmethod
    def new(cls, slug: str) -> Trail:
        organization = organization_create(slug=slug)
        return cls(organization, newest_seq(organization))


@pytest.fixture
def trail():
    """Five events of one organisation that differ in every filtered column."""
    trail = Trail.new("filters")
    org = trail.organization
    bob = Actor("user", "42", "bob@example.com")
    event_at(JAN, org, "api_key.created", target_type="keys.apikey", target_id=1)
    event_at(FEB, org, "api_key.revoked", target_type="keys.apikey", target_id=1)
    event_at(FEB, org, "member.added", actor=bob, after={"note": "quarterly audit"})
    event_at(MAR, org, "member.removed", actor=bob, outcome="denied")
    event_at(MAR, org, "apikeyring.rotated", target_type="keyring", target_id=9)
    return trail


def actions(trail: Trail, **params) -> list[str]:
    form = EventFilterForm(QueryDict(mutable=True) | params)
    assert form.is_valid(), form.errors
    page = event_page(trail.organization, form.filters(), size=200)
    return [e.action for e in page.events if e.seq > trail.base]


def test_no_filter_lists_everything_newest_first(trail):
    assert actions(trail) == [
        "apikeyring.rotated",
        "member.removed",
        "member.added",
        "api_key.revoked",
        "api_key.created",
    ]


def test_time_range_with_dates_covers_whole_days(trail):
    assert actions(trail, **{"from": "2025-02-10", "to": "2025-02-10"}) == [
        "member.added",
        "api_key.revoked",
    ]
    assert actions(trail, **{"from": "2025-03-01"}) == [
        "apikeyring.rotated",
        "member.removed",
    ]
    assert actions(trail, to="2025-01-31") == ["api_key.created"]


def test_time_range_with_datetimes_is_inclusive_and_reads_offsets(trail):
    assert len(actions(trail, **{"from": "2025-02-10T09:30:00Z"})) == 4
    assert actions(trail, to="2025-01-10T09:30:00+00:00") == ["api_key.created"]
    assert actions(trail, to="2025-01-10T10:29:59+01:00") == []
    # Without an offset, a time is UTC.
    assert actions(trail, to="2025-01-10T09:30:00") == ["api_key.created"]


def test_actor_matches_an_id_exactly_or_part_of_an_email(trail):
    assert actions(trail, actor="42") == ["member.removed", "member.added"]
    assert actions(trail, actor="BOB@") == ["member.removed", "member.added"]
    assert actions(trail, actor="4") == []
    assert len(actions(trail, actor="alice")) == 3


def test_action_is_exact_or_a_prefix_ending_in_a_dot(trail):
    assert actions(trail, action="api_key.created") == ["api_key.created"]
    assert actions(trail, action="api_key.") == ["api_key.revoked", "api_key.created"]
    assert actions(trail, action="member.*") == ["member.removed", "member.added"]
    assert actions(trail, action="api_key") == []


def test_target_and_outcome_filters(trail):
    assert actions(trail, target_type="keys.apikey") == [
        "api_key.revoked",
        "api_key.created",
    ]
    assert actions(trail, target_type="keyring", target_id="9") == [
        "apikeyring.rotated"
    ]
    assert actions(trail, target_id="1", action="api_key.revoked") == [
        "api_key.revoked"
    ]
    assert actions(trail, outcome="denied") == ["member.removed"]


def test_search_finds_words_in_values_and_columns(trail):
    assert actions(trail, q="quarterly") == ["member.added"]
    assert actions(trail, q="quarterly audit") == ["member.added"]
    assert actions(trail, q="quarterly nothing") == []
    assert actions(trail, q="keyring") == ["apikeyring.rotated"]
    assert actions(trail, q="bob@example.com") == ["member.removed", "member.added"]


def test_filters_never_reach_another_organisations_events(trail):
    other = Trail.new("filters-other")
    event(other.organization, "api_key.created", after={"note": "quarterly"})
    assert actions(trail, q="quarterly") == ["member.added"]
    assert actions(other) == ["api_key.created"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-02-30"}, "to"),
        ({"from": "2025-01-10T25:00"}, "from"),
        ({"outcome": "exploded"}, "outcome"),
        ({"from": "2025-03-01", "to": "2025-02-01"}, "non_field_errors"),
    ],
)
def test_bad_filters_are_form_errors(params, field):
    form = EventFilterForm(QueryDict(mutable=True) | params)
    assert not form.is_valid()
    assert field in form.error_dict()


def test_keyset_pages_walk_back_and_forth_without_overlap():
    trail = Trail.new("paging")
    org, mine = trail.organization, EventFilters(action="thing.done")
    for n in range(7):
        event(org, "thing.done", target_id=n)

    def page(**where):
        found = event_page(org, mine, size=3, **where)
        return found, [e.seq - trail.base for e in found.events]

    first, seqs = page()
    assert seqs == [7, 6, 5] and first.newer_than is None
    second, seqs = page(before=first.older_than)
    assert seqs == [4, 3, 2]
    last, seqs = page(before=second.older_than)
    assert seqs == [1] and last.older_than is None
    back, seqs = page(after=last.newer_than)
    assert seqs == [4, 3, 2]
    assert (back.newer_than, back.older_than) == (second.newer_than, second.older_than)
    newest, seqs = page(after=back.newer_than)
    assert seqs == [7, 6, 5] and newest.newer_than is None

    # A page addressed by seq stays the same while new events arrive.
    event(org, "thing.done")
    assert page(before=first.older_than)[1] == [4, 3, 2]


def test_detail_diffs_before_and_after_field_by_field():
    org = organization_create(slug="diffs")
    recorded = event(
        org,
        "settings.changed",
        before={"name": "old", "limit": 5, "nested": {"x": 1}, "flag": 1},
        after={"name": "new", "nested": {"x": 1, "y": 2}, "extra": None, "flag": True},
    )
    item = event_detail(org, recorded.pk)
    assert item.before["name"] == "old" and item.after["name"] == "new"
    assert [(c.field, c.kind, c.before, c.after) for c in item.changes] == [
        ("extra", "added", None, None),
        ("flag", "changed", 1, True),
        ("limit", "removed", 5, None),
        ("name", "changed", "old", "new"),
        ("nested.y", "added", None, 2),
    ]


def test_a_creation_diffs_as_every_field_added():
    assert [c.kind for c in diff(None, {"a": 1, "b": {"c": 2}})] == ["added", "added"]
    assert diff({"a": 1}, {"a": 1}) == []
    assert [c.field for c in diff([1], [2])] == ["(value)"]


def test_an_event_of_another_organisation_is_not_found():
    mine, theirs = organization_create(slug="d-mine"), organization_create(slug="d-x")
    secret = event(theirs, "thing.done")
    with pytest.raises(Http404):
        event_detail(mine, secret.pk)
    assert event_detail(theirs, secret.pk).event.pk == secret.pk
