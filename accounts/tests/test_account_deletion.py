"""A person deletes their account: personal data goes, the audit trail stays."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

import pytest

from accounts import privacy
from accounts.models import Membership, Organization, User
from accounts.privacy import (
    USER_DELETE_ACTION,
    PrivacyError,
    deletion_plan,
    pseudonym_for,
    user_delete,
)
from accounts.services import project_create
from accounts.tenancy import platform_context, tenant_context
from accounts.tests.conftest import PASSWORD, join, organization, person
from audit.context import Actor
from audit.models import AuditEvent
from audit.services import record
from audit.verify import verify
from keys.models import ApiKey
from keys.services import api_key_create
from providers.models import DataKey
from providers.services import data_key_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol() -> User:
    return person("carol")


@pytest.fixture
def world(alice, carol):
    """Alice is a member of Carol's team and the only member of her own."""
    team, solo = organization("team"), organization("solo")
    join(team, carol, "owner")
    join(team, alice, "admin")
    join(solo, alice, "owner")
    project = project_create(organization=team, slug="default")
    key, _ = api_key_create(project=project, name="alice's ci", created_by=alice)
    solo_project = project_create(organization=solo, slug="default")
    solo_key, _ = api_key_create(project=solo_project, name="solo", created_by=alice)
    data_key_for(solo.pk)
    for org in (team, solo):
        record("test.alice_acted", organization=org, actor=Actor.user(alice))
    record("test.carol_acted", organization=team, actor=Actor.user(carol))
    return {"team": team, "solo": solo, "key": key, "solo_key": solo_key}


def events(**filters) -> list[AuditEvent]:
    with platform_context():
        return list(AuditEvent.objects.filter(**filters))


def member_ids(org: Organization) -> set[int]:
    with tenant_context(org):
        return set(
            Membership.objects.for_organization(org).values_list("user_id", flat=True)
        )


def key_row(key: ApiKey) -> ApiKey:
    with platform_context():
        return ApiKey.objects.get(pk=key.pk)


def assert_untouched(alice: User, world: dict) -> None:
    alice.refresh_from_db()
    assert alice.is_active and alice.check_password(PASSWORD)
    assert alice.pk in member_ids(world["team"])
    assert alice.pk in member_ids(world["solo"])
    world["solo"].refresh_from_db()
    assert world["solo"].deleted_at is None
    assert key_row(world["key"]).created_by_id == alice.pk
    assert events(action=USER_DELETE_ACTION) == []


def test_deleting_removes_personal_data_and_keeps_a_pseudonymous_trail(
    client, alice, carol, world
):
    client.force_login(alice)
    email = alice.email

    response = client.post("/accounts/me/delete/", {"password": PASSWORD})

    assert response.status_code == 200
    assert b"Your account is deleted" in response.content
    alice.refresh_from_db()
    assert alice.username == f"deleted-{alice.pk}"
    assert (alice.email, alice.first_name, alice.last_name) == (None, "", "")
    assert not alice.has_usable_password()
    assert not alice.is_active
    assert member_ids(world["team"]) == {carol.pk}
    own_events = events(actor_type="user", actor_id=str(alice.pk))
    assert len(own_events) >= 4
    assert {event.actor_email for event in own_events} == {pseudonym_for(alice.pk)}
    assert events(actor_email=email) == []
    assert {e.actor_email for e in events(action="test.carol_acted")} == {carol.email}
    assert verify(world["team"].pk).ok
    assert verify(world["solo"].pk).ok


def test_the_deletion_is_recorded_on_the_person_s_organisations(alice, world):
    user_delete(alice)

    recorded = events(action=USER_DELETE_ACTION, target_id=str(alice.pk))
    assert {event.organization_id for event in recorded} == {
        world["team"].pk,
        world["solo"].pk,
    }
    removed = events(action="member.removed", organization=world["team"])
    assert len(removed) == 1


def test_keys_the_person_created_keep_working_without_naming_them(alice, world):
    user_delete(alice)

    key = key_row(world["key"])
    assert key.revoked_at is None
    assert key.created_by_id is None


def test_an_organisation_the_person_was_alone_in_is_deleted_with_them(alice, world):
    assert deletion_plan(alice).deleted == [world["solo"]]

    user_delete(alice)

    world["solo"].refresh_from_db()
    assert world["solo"].deleted_at is not None
    assert key_row(world["solo_key"]).revoked_at is not None
    with platform_context():
        assert not DataKey.objects.filter(organization=world["solo"]).exists()


def test_the_last_owner_of_a_team_is_refused_with_what_to_do(client, alice, world):
    bob = person("bob")
    join(world["solo"], bob)
    client.force_login(alice)

    response = client.post("/accounts/me/delete/", {"password": PASSWORD})

    assert response.status_code == 409
    text = response.content.decode()
    assert "last owner" in text and world["solo"].slug in text
    assert "Make another member an owner, or delete the organisation" in text
    assert_untouched(alice, world)


def test_a_wrong_password_deletes_nothing(client, alice, world):
    client.force_login(alice)

    response = client.post("/accounts/me/delete/", {"password": "not it"})

    assert response.status_code == 400
    assert b"That is not your password." in response.content
    assert_untouched(alice, world)


def test_a_failure_half_way_leaves_nothing_done(alice, world, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("accounts.privacy.pseudonymise_actor", fail)

    with pytest.raises(RuntimeError):
        user_delete(alice)

    assert_untouched(alice, world)
    assert events(action="organization.deleted") == []
    assert key_row(world["solo_key"]).revoked_at is None


def test_the_person_is_signed_out_everywhere(alice, world):
    here, elsewhere = Client(), Client()
    here.force_login(alice)
    elsewhere.force_login(alice)
    assert elsewhere.get("/accounts/me/").status_code == 200

    here.post("/accounts/me/delete/", {"password": PASSWORD})

    for browser in (here, elsewhere):
        assert browser.get("/accounts/me/").status_code == 302


def test_the_api_deletes_with_the_password_in_the_body(client, alice, world):
    client.force_login(alice)

    wrong = client.delete(
        "/api/v1/me", {"password": "nope"}, content_type="application/json"
    )
    right = client.delete(
        "/api/v1/me", {"password": PASSWORD}, content_type="application/json"
    )

    assert wrong.status_code == 400
    assert wrong.json() == {"password": ["That is not your password."]}
    assert right.status_code == 204
    alice.refresh_from_db()
    assert not alice.is_active
    assert client.get("/api/v1/me/export").status_code == 401  # signed out now


def test_guessing_the_password_to_confirm_stops_after_five_tries(client, alice, world):
    client.force_login(alice)
    for n in range(privacy.CONFIRM_FAILURES_ALLOWED):
        wrong = client.delete(
            "/api/v1/me", {"password": f"guess-{n}"}, content_type="application/json"
        )
        assert wrong.status_code == 400

    right = client.delete(
        "/api/v1/me", {"password": PASSWORD}, content_type="application/json"
    )
    page = client.post("/accounts/me/delete/", {"password": PASSWORD})

    assert right.status_code == 429 and "Too many" in right.json()["detail"]
    assert page.status_code == 400 and b"Too many wrong attempts" in page.content
    alice.refresh_from_db()
    assert alice.is_active
    with platform_context():
        failed = AuditEvent.objects.filter(
            action=privacy.CONFIRM_FAILED_ACTION, target_id=str(alice.pk)
        )
        assert failed.count() >= privacy.CONFIRM_FAILURES_ALLOWED
        assert all(e.outcome == "failure" for e in failed)


def test_the_api_refuses_the_last_owner_with_409(client, alice, world):
    join(world["solo"], person("bob"))
    client.force_login(alice)

    response = client.delete(
        "/api/v1/me", {"password": PASSWORD}, content_type="application/json"
    )

    assert response.status_code == 409
    assert "last owner" in response.json()["detail"]
    assert_untouched(alice, world)


def test_someone_without_a_password_confirms_with_their_username(client):
    dan = person("dan")
    dan.set_unusable_password()
    dan.save()
    client.force_login(dan)

    page = client.get("/accounts/me/")
    wrong = client.delete(
        "/api/v1/me", {"password": ""}, content_type="application/json"
    )
    right = client.delete(
        "/api/v1/me", {"username": dan.username}, content_type="application/json"
    )

    assert b"to confirm" in page.content and b'name="username"' in page.content
    assert wrong.status_code == 400
    assert right.status_code == 204


def test_a_signed_out_visitor_cannot_delete(client):
    assert client.delete("/api/v1/me").status_code == 401
    assert client.post("/accounts/me/delete/").status_code == 302


def test_the_pseudonym_is_stable_and_differs_per_person():
    assert pseudonym_for(41) == pseudonym_for(41)
    assert pseudonym_for(41) != pseudonym_for(42)
    assert pseudonym_for(41).startswith("deleted-user-")


def test_the_command_needs_yes_and_reports_what_it_did(alice, world):
    out = io.StringIO()
    with pytest.raises(CommandError, match="--yes"):
        call_command("delete_user", alice.username, stdout=out)
    assert_untouched(alice, world)

    call_command("delete_user", alice.username, "--yes", stdout=out)

    assert f"deleted user {alice.pk}" in out.getvalue()
    assert world["solo"].slug in out.getvalue()
    assert PASSWORD not in out.getvalue()


def test_the_command_explains_a_refusal(alice, world):
    join(world["solo"], person("bob"))

    with pytest.raises(CommandError, match="last owner"):
        call_command("delete_user", alice.username, "--yes")


def test_the_refusal_names_every_blocking_organisation(alice, world):
    join(world["solo"], person("bob"))

    with pytest.raises(PrivacyError) as refused:
        user_delete(alice)

    assert world["solo"].slug in str(refused.value)
    assert world["team"].slug not in str(refused.value)


def test_the_page_says_what_goes_with_the_account(client, alice, world):
    client.force_login(alice)

    page = client.get("/accounts/me/").content.decode()

    assert world["solo"].slug in page and "deletes it too" in page
    assert f"You leave\n        <strong>{world['team'].slug}</strong>" in page


def test_an_organisation_without_an_owner_is_left_not_deleted(alice):
    orphan = organization("orphan")
    join(orphan, alice, "viewer")

    user_delete(alice)

    orphan.refresh_from_db()
    assert orphan.deleted_at is None
    assert member_ids(orphan) == set()


def test_deletion_forgets_how_the_person_signed_in(alice):
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts.models import ManagementToken
    from accounts.privacy import user_delete
    from accounts.tokens import token_create

    TOTP.activate(alice, generate_totp_secret())
    token_create(user=alice, name="ci")

    user_delete(alice)

    for model in (EmailAddress, Authenticator, ManagementToken):
        assert not model.objects.filter(user=alice).exists()
