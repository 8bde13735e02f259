"""Who may review and export an organisation's audit trail."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

import pytest

from accounts import policy
from accounts.services import organization_create
from audit.tests.review_people import make_people

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("action", ["audit.view", "audit.export"])
def test_owners_and_admins_may_review_and_export(action):
    people = make_people()
    for user in (people.owner, people.admin):
        assert policy.can(user, action, people.organization)
        assert policy.organization_for(user, people.slug, action) == people.organization


@pytest.mark.parametrize("action", ["audit.view", "audit.export"])
def test_members_and_viewers_are_refused_with_403(action):
    people = make_people()
    for user in (people.member, people.viewer):
        assert not policy.can(user, action, people.organization)
        with pytest.raises(PermissionDenied):
            policy.organization_for(user, people.slug, action)


def test_outsiders_get_404_whether_or_not_the_organisation_exists():
    people = make_people()
    for user in (people.outsider, AnonymousUser()):
        assert not policy.can(user, "audit.view", people.organization)
        with pytest.raises(Http404):
            policy.organization_for(user, people.slug, "audit.view")
    with pytest.raises(Http404):
        policy.organization_for(people.owner, "no-such-org", "audit.view")


def test_an_admin_of_one_organisation_has_no_rights_in_another():
    people = make_people()
    other = organization_create(slug="review-elsewhere")
    assert not policy.can(people.admin, "audit.view", other)
    with pytest.raises(Http404):
        policy.organization_for(people.admin, other.slug, "audit.view")


def test_an_organisation_being_deleted_is_not_found():
    people = make_people()
    people.organization.deleted_at = people.organization.created_at
    people.organization.save(update_fields=["deleted_at"])
    with pytest.raises(Http404):
        policy.organization_for(people.owner, people.slug, "audit.view")


def test_an_action_without_a_policy_is_an_error_not_a_silent_no():
    people = make_people()
    with pytest.raises(LookupError):
        policy.can(people.owner, "audit.delete", people.organization)
