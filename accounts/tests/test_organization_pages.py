"""Organisation pages with three people: an owner, a teammate and an outsider."""

from __future__ import annotations

import re

from django.core import mail

import pytest

from accounts import policy
from accounts.invitations import invitation_create
from accounts.models import Invitation, Membership
from accounts.tenancy import tenant_context
from accounts.tests.conftest import (
    join,
    mailed_invitation,
    organization,
    person,
    reauthenticated,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    org = organization("acme")
    owner, teammate, outsider = person("olivia"), person("tom"), person("xena")
    join(org, owner, "owner")
    join(org, teammate, "member")
    return org, owner, teammate, outsider


def signed_in(client, user):
    client.force_login(user)
    return client


def test_a_person_starts_an_organisation_and_owns_it(client, alice):
    signed_in(client, alice)

    response = client.post("/orgs/", {"name": "Globex", "slug": "globex"})

    assert response.status_code == 302
    org = policy.organizations_for(alice, "members.owners")[0]
    assert (org.slug, org.name) == ("globex", "Globex")
    page = client.get(response["Location"]).content.decode()
    assert "Globex" in page and "default" in page


def test_a_taken_or_bad_short_name_is_a_form_error(client, alice, acme):
    org = acme[0]
    signed_in(client, alice)

    taken = client.post("/orgs/", {"name": "Again", "slug": org.slug})
    bad = client.post("/orgs/", {"name": "Bad", "slug": "Not Valid!"})

    assert taken.status_code == 400 and b"is taken" in taken.content
    assert bad.status_code == 400 and b"errorlist" in bad.content


@pytest.mark.parametrize("path", ["/orgs/{}/", "/orgs/{}/members/"])
def test_who_sees_the_pages(client, acme, path):
    org, owner, teammate, outsider = acme
    url = path.format(org.slug)

    assert signed_in(client, owner).get(url).status_code == 200
    assert signed_in(client, teammate).get(url).status_code == 200
    assert signed_in(client, outsider).get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to sign in


def test_only_managers_see_the_invitation_form(client, acme):
    org, owner, teammate, _ = acme
    url = f"/orgs/{org.slug}/members/"

    assert b"Send invitation" in signed_in(client, owner).get(url).content
    page = signed_in(client, teammate).get(url).content
    assert b"Send invitation" not in page and b"Change role" not in page
    refused = client.post(url, {"email": "new@example.test", "role": "member"})
    assert refused.status_code == 403
    assert not mail.outbox


def test_an_invitation_is_mailed_and_accepted_by_its_address_only(
    client, acme, django_capture_on_commit_callbacks
):
    org, owner, _, outsider = acme
    reauthenticated(client, owner)
    invitee = person("ivy")

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            f"/orgs/{org.slug}/members/",
            {"email": invitee.email.upper(), "role": "viewer"},
        )

    assert sent.status_code == 302
    [message] = mail.outbox
    link = re.search(r"http://\S+/invitations/\S+/", message.body).group()
    path = link.split("testserver", 1)[1]
    token = path.rstrip("/").rsplit("/", 1)[1]
    with tenant_context(org):
        stored = Invitation.objects.for_organization(org).get()
    assert token not in stored.token_hash

    wrong = signed_in(client, outsider).post(path)
    assert wrong.status_code == 400 and b"another address" in wrong.content
    joined = signed_in(client, invitee).post(path)
    assert joined.status_code == 302
    assert policy.role_in(invitee, org) == "viewer"
    again = client.post(path)
    assert again.status_code == 400 and b"not valid" in again.content


def test_admins_cannot_make_or_change_owners(client, acme):
    org, owner, teammate, _ = acme
    admin = person("ada")
    join(org, admin, "admin")
    with tenant_context(org):
        owner_row = Membership.objects.for_organization(org).get(user=owner)
        teammate_row = Membership.objects.for_organization(org).get(user=teammate)
    reauthenticated(client, admin)

    demote = client.post(
        f"/orgs/{org.slug}/members/{owner_row.pk}/", {"role": "member"}
    )
    promote = client.post(
        f"/orgs/{org.slug}/members/{teammate_row.pk}/", {"role": "owner"}
    )

    assert demote.status_code == 403
    assert promote.status_code == 302  # refused as a message, nothing changed
    assert policy.role_in(owner, org) == "owner"
    assert policy.role_in(teammate, org) == "member"


def test_the_last_owner_stays(client, acme):
    org, owner, _, _ = acme
    with tenant_context(org):
        mine = Membership.objects.for_organization(org).get(user=owner)
    reauthenticated(client, owner)

    client.post(f"/orgs/{org.slug}/members/{mine.pk}/", {"remove": "1"})
    page = client.get(f"/orgs/{org.slug}/members/", follow=True).content

    assert policy.role_in(owner, org) == "owner"
    assert b"only owner" in page


def test_an_owner_changes_a_role_and_removes_a_member(client, acme):
    org, owner, teammate, _ = acme
    with tenant_context(org):
        row = Membership.objects.for_organization(org).get(user=teammate)
    reauthenticated(client, owner)

    client.post(f"/orgs/{org.slug}/members/{row.pk}/", {"role": "admin"})
    assert policy.role_in(teammate, org) == "admin"
    client.post(f"/orgs/{org.slug}/members/{row.pk}/", {"remove": "1"})
    assert policy.role_in(teammate, org) is None


def test_an_invitation_can_be_withdrawn(client, acme):
    org, owner, _, _ = acme
    invitation = invitation_create(
        organization=org,
        email="later@example.test",
        role="member",
        invited_by=owner,
        link="http://x/{token}",
    )
    signed_in(client, owner)

    client.post(f"/orgs/{org.slug}/invitations/{invitation.pk}/withdraw/")

    with tenant_context(org):
        assert Invitation.objects.for_organization(org).get().revoked_at is not None


def test_changing_a_role_asks_for_a_fresh_check(client, acme):
    org, owner, teammate, _ = acme
    with tenant_context(org):
        row = Membership.objects.for_organization(org).get(user=teammate)
    signed_in(client, owner)

    asked = client.post(f"/orgs/{org.slug}/members/{row.pk}/", {"role": "admin"})

    assert asked["Location"].startswith("/accounts/reauthenticate/")
    assert policy.role_in(teammate, org) == "member"


def test_managers_make_projects_and_teammates_do_not(client, acme):
    org, owner, teammate, _ = acme
    client.force_login(owner)

    made = client.post(f"/orgs/{org.slug}/", {"name": "Web", "slug": "web"})
    again = client.post(f"/orgs/{org.slug}/", {"name": "Web", "slug": "web"})
    client.force_login(teammate)
    refused = client.post(f"/orgs/{org.slug}/", {"name": "X", "slug": "x"})

    assert made.status_code == 302
    assert again.status_code == 400 and b"by that name" in again.content
    assert refused.status_code == 403
    assert b"New project" not in client.get(f"/orgs/{org.slug}/").content


def test_inviting_asks_for_a_fresh_check(client, acme):
    org, owner, _, _ = acme
    signed_in(client, owner)

    asked = client.post(
        f"/orgs/{org.slug}/members/", {"email": "eve@example.test", "role": "owner"}
    )

    assert asked["Location"].startswith("/accounts/reauthenticate/")
    assert not mail.outbox


def test_a_viewer_is_refused_before_being_asked_for_a_password(client, acme):
    org, owner, _, _ = acme
    viewer = person("val")
    join(org, viewer, "viewer")
    with tenant_context(org):
        row = Membership.objects.for_organization(org).get(user=owner)
    signed_in(client, viewer)

    refused = client.post(f"/orgs/{org.slug}/members/{row.pk}/", {"role": "member"})

    assert refused.status_code == 403


def test_someone_elses_invitation_says_so_before_they_click(
    client, acme, django_capture_on_commit_callbacks
):
    org, owner, _, outsider = acme
    path = mailed_invitation(
        org, owner, "right@example.test", django_capture_on_commit_callbacks
    )
    signed_in(client, outsider)

    page = client.get(path)

    assert page.status_code == 400
    assert b"another address" in page.content and b"Join" not in page.content


def test_adding_an_email_address_asks_for_a_fresh_check(client, alice):
    signed_in(client, alice)

    asked = client.post(
        "/accounts/email/", {"action_add": "", "email": "mallory@example.test"}
    )

    assert asked.status_code == 302
    assert asked["Location"].startswith("/accounts/reauthenticate/")


# (path, status for owner, teammate, outsider); 302 is the fresh-check page.
PAGES = [
    ("/orgs/{org}/", 200, 200, 404),
    ("/orgs/{org}/members/", 200, 200, 404),
    ("/orgs/{org}/keys/", 200, 200, 404),
    ("/orgs/{org}/keys/new/", 302, 302, 404),
    ("/orgs/{org}/providers/", 200, 200, 404),
    ("/orgs/{org}/providers/set/", 302, 403, 404),
    ("/orgs/{org}/guardrails/", 200, 200, 404),
    ("/orgs/{org}/usage/", 200, 200, 404),
    ("/orgs/{org}/audit/", 200, 403, 404),
]


@pytest.mark.parametrize(("path", "expected"), [(p, tuple(e)) for p, *e in PAGES])
def test_every_page_for_owner_teammate_outsider_and_anonymous(
    client, acme, path, expected
):
    org, owner, teammate, outsider = acme
    url = path.format(org=org.slug)

    seen = []
    for who in (owner, teammate, outsider):
        client.force_login(who)
        seen.append(client.get(url).status_code)
    client.logout()
    anonymous = client.get(url)

    assert tuple(seen) == expected
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
