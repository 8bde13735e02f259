"""Every security-relevant action leaves exactly one audit record, and no secret."""

from __future__ import annotations

import io
import itertools
import json
from datetime import timedelta

from django.contrib import admin as django_admin
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

import pytest

from accounts.models import Membership, Organization, Project
from accounts.services import (
    LastOwner,
    ProjectInUse,
    email_mark_verified,
    membership_add,
    membership_change_role,
    membership_remove,
    organization_create,
    organization_update,
    project_create,
    project_delete,
    project_update,
)
from accounts.tenancy import platform_context, tenant_context
from audit import services, signals
from audit.admin import AuditedAdmin, check_admins_are_audited
from audit.context import Actor, acting_as
from audit.models import AuditEvent
from audit.services import AuditWriteError
from audit.verify import verify
from keys.models import ApiKey
from keys.services import api_key_create, api_key_revoke, api_key_update_limits
from providers.models import ProviderCredential
from providers.services import (
    master_key_rotate,
    organization_key_rotate,
    provider_credential_delete,
    provider_credential_set,
)
from tests.factories import otp_signed_in

pytestmark = pytest.mark.django_db

PROVIDER_KEY = "sk-proj-recording-test-provider-key-1111"
NEW_PROVIDER_KEY = "sk-proj-recording-test-provider-key-2222"
PASSWORD = "a-long-enough-password-for-tests"
ADMIN = Actor.system("test")
_numbers = itertools.count(1)


def events(org_id: int | None, **filters) -> list[AuditEvent]:
    with services.chain_scope(org_id):
        chain = AuditEvent.objects.filter(organization_id=org_id, **filters)
        return list(chain.order_by("seq"))


def the_event(action: str, org_id: int | None) -> AuditEvent:
    found = events(org_id, action=action)
    assert len(found) == 1, [event.action for event in events(org_id)]
    return found[0]


def stored_text(event: AuditEvent) -> str:
    return " ".join(
        [event.target_id, event.before, event.after, event.detail, event.user_agent]
    )


def new_org(**fields) -> Organization:
    with acting_as(ADMIN):
        return organization_create(slug=f"rec-{next(_numbers)}", **fields)


def new_project(org: Organization) -> Project:
    with acting_as(ADMIN):
        return project_create(organization=org, slug=f"p-{next(_numbers)}")


def json_of(text: str) -> dict:
    return json.loads(text) if text else {}


def test_organization_creation_is_recorded_with_its_actor():
    org = new_org(name="Acme", plan="pro")

    event = the_event("organization.created", org.pk)
    assert (event.actor_type, event.actor_id) == ("system", "test")
    assert (event.target_type, event.target_id) == (
        "accounts.organization",
        str(org.pk),
    )
    assert json_of(event.after) == {"slug": org.slug, "name": "Acme", "plan": "pro"}
    assert verify(org.pk).ok


def test_organization_update_records_only_the_changed_fields():
    org = new_org(name="Acme")

    with acting_as(ADMIN):
        organization_update(organization=org, name="Acme", plan="enterprise")
        organization_update(organization=org, plan="enterprise")  # no change

    event = the_event("organization.updated", org.pk)
    assert json_of(event.before) == {"plan": "free"}
    assert json_of(event.after) == {"plan": "enterprise"}
    org.refresh_from_db()
    assert org.plan == "enterprise"


def test_organization_update_refuses_a_bad_value_and_records_nothing():
    org = new_org()

    with pytest.raises(ValueError):
        organization_update(organization=org, plan="platinum")
    with pytest.raises(ValueError):
        organization_update(organization=org, audit_retention_days=0)

    assert events(org.pk, action="organization.updated") == []


def test_project_creation_update_and_deletion_are_recorded():
    org = new_org()
    project = new_project(org)
    with acting_as(ADMIN):
        project_update(project=project, name="Renamed")
        project_delete(project=project)

    created = the_event("project.created", org.pk)
    assert json_of(created.after) == {
        "slug": project.slug,
        "name": project.slug,
        "limits": {},
    }
    updated = the_event("project.updated", org.pk)
    assert json_of(updated.before) == {"name": project.slug}
    assert json_of(updated.after) == {"name": "Renamed"}
    deleted = the_event("project.deleted", org.pk)
    assert deleted.target_id == str(project.pk)
    with tenant_context(org):
        assert not Project.objects.filter(pk=project.pk).exists()
    assert verify(org.pk).ok


def test_project_with_a_working_key_is_not_deleted():
    org = new_org()
    project = new_project(org)
    api_key, _ = api_key_create(project=project, name="live")

    with pytest.raises(ProjectInUse):
        project_delete(project=project)
    api_key_revoke(api_key=api_key)
    project_delete(project=project)

    assert len(events(org.pk, action="project.deleted")) == 1
    assert json_of(the_event("project.deleted", org.pk).detail) == {
        "revoked_keys_removed": 1,
        "provider_keys_removed": 0,
    }


def test_membership_changes_are_recorded_and_one_owner_always_remains(
    django_user_model,
):
    org = new_org()
    owner = django_user_model.objects.create_user("owner", "owner@example.com")
    other = django_user_model.objects.create_user("other", "other@example.com")
    with acting_as(ADMIN):
        first = membership_add(organization=org, user=owner, role="owner")
        second = membership_add(organization=org, user=other)
        with pytest.raises(LastOwner):
            membership_change_role(membership=first, role="admin")
        with pytest.raises(LastOwner):
            membership_remove(membership=first)
        membership_change_role(membership=second, role="owner")
        membership_change_role(membership=first, role="admin")
        membership_remove(membership=first)

    added = events(org.pk, action="member.added")
    assert [json_of(e.after) for e in added] == [
        {"user_id": owner.pk, "role": "owner"},
        {"user_id": other.pk, "role": "member"},
    ]
    changed = events(org.pk, action="member.role_changed")
    assert [(json_of(e.before)["role"], json_of(e.after)["role"]) for e in changed] == [
        ("member", "owner"),
        ("owner", "admin"),
    ]
    removed = the_event("member.removed", org.pk)
    assert json_of(removed.before) == {"user_id": owner.pk, "role": "admin"}
    with tenant_context(org):
        roles = list(Membership.objects.for_organization(org).values_list("role"))
    assert roles == [("owner",)]
    assert verify(org.pk).ok


def test_api_key_changes_are_recorded_without_the_key_or_its_hash():
    org = new_org()
    project = new_project(org)
    expires = timezone.now() + timedelta(days=30)
    with acting_as(ADMIN):
        api_key, full = api_key_create(
            project=project, name="ci", expires_at=expires, limits={"rpm": 5}
        )
        api_key_update_limits(api_key=api_key, limits={"tpm": 900})
        api_key_revoke(api_key=api_key)
        api_key_revoke(api_key=api_key)  # already revoked: nothing changes

    created = the_event("api_key.created", org.pk)
    assert (created.target_type, created.target_id) == (
        "keys.apikey",
        api_key.public_id,
    )
    after = json_of(created.after)
    assert after["name"] == "ci" and after["environment"] == "live"
    assert after["project"] == project.slug and after["hint"] == full[-4:]
    assert after["limits"] == {"rpm": 5} and after["expires_at"].startswith("20")
    limits = the_event("api_key.limits_changed", org.pk)
    assert json_of(limits.before) == {"rpm": 5}
    assert json_of(limits.after) == {"tpm": 900}
    the_event("api_key.revoked", org.pk)
    for event in events(org.pk):
        assert full not in stored_text(event)
        assert full[len("wdn_live_") :] not in stored_text(event)
        assert api_key.secret_hash not in stored_text(event)
    assert verify(org.pk).ok


def test_provider_key_changes_are_recorded_with_hints_only():
    org = new_org()
    with acting_as(ADMIN):
        credential = provider_credential_set(
            organization=org,
            provider="openai",
            secret=PROVIDER_KEY,
            base_url="http://127.0.0.1:9/v1",
        )
        provider_credential_set(
            organization=org, provider="openai", secret=NEW_PROVIDER_KEY
        )
        provider_credential_delete(credential=credential)

    added = the_event("provider_key.added", org.pk)
    assert json_of(added.after)["hint"] == PROVIDER_KEY[-4:]
    replaced = the_event("provider_key.replaced", org.pk)
    assert json_of(replaced.before)["hint"] == PROVIDER_KEY[-4:]
    assert json_of(replaced.after)["hint"] == NEW_PROVIDER_KEY[-4:]
    deleted = the_event("provider_key.deleted", org.pk)
    assert deleted.target_id == str(credential.pk)
    for event in events(org.pk):
        for secret in (PROVIDER_KEY, NEW_PROVIDER_KEY):
            assert secret not in stored_text(event)
    with tenant_context(org):
        assert not ProviderCredential.objects.filter(pk=credential.pk).exists()
    assert verify(org.pk).ok


def test_data_key_and_master_key_rotations_are_recorded(settings):
    first, second = new_org(), new_org()
    for org in (first, second):
        provider_credential_set(
            organization=org, provider="openai", secret=PROVIDER_KEY
        )
    with acting_as(ADMIN):
        organization_key_rotate(organization=first)
    rotated = the_event("data_key.rotated", first.pk)
    assert json_of(rotated.detail) == {
        "provider_keys_reencrypted": 1,
        "request_texts_reencrypted": 0,
    }

    settings.MASTER_KEYS = [("k-new", b"\x07" * 32), *settings.MASTER_KEYS]
    platform_before = len(events(None, action="master_key.rotated"))
    with acting_as(ADMIN):
        changed = master_key_rotate()

    assert changed >= 2
    for org in (first, second):
        rewrapped = the_event("data_key.rewrapped", org.pk)
        assert json_of(rewrapped.after) == {"master_key_id": "k-new"}
        assert verify(org.pk).ok
    platform = events(None, action="master_key.rotated")
    assert len(platform) == platform_before + 1
    assert json_of(platform[-1].detail) == {
        "master_key_id": "k-new",
        "organizations": changed,
    }
    assert verify(None).ok


def test_a_rolled_back_change_leaves_no_record():
    org = new_org()

    with pytest.raises(RuntimeError), transaction.atomic():
        project_create(organization=org, slug="doomed")
        raise RuntimeError("the caller's transaction fails after the change")

    assert events(org.pk, action="project.created") == []
    with tenant_context(org):
        assert not Project.objects.filter(slug="doomed").exists()
    assert verify(org.pk).ok


def refuse(event):
    raise RuntimeError("the audit table is unavailable")


def test_a_failed_audit_write_fails_the_change(monkeypatch):
    org = new_org()
    project = new_project(org)
    api_key, _ = api_key_create(project=project, name="kept")

    monkeypatch.setattr(services, "_append", refuse)
    with pytest.raises(AuditWriteError):
        project_create(organization=org, slug="never")
    with pytest.raises(AuditWriteError):
        organization_update(organization=org, plan="pro")
    with pytest.raises(AuditWriteError):
        api_key_revoke(api_key=api_key)
    with pytest.raises(AuditWriteError):
        organization_create(slug="never-org")

    with tenant_context(org):
        assert not Project.objects.filter(slug="never").exists()
        assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None
    org.refresh_from_db()
    assert org.plan == "free"
    assert not Organization.objects.filter(slug="never-org").exists()


def test_management_commands_act_as_a_named_system():
    call_command(
        "create_organization", "cmd-org", "--project", "main", stdout=io.StringIO()
    )

    org = Organization.objects.get(slug="cmd-org")
    for action in ("organization.created", "project.created"):
        event = the_event(action, org.pk)
        assert (event.actor_type, event.actor_id) == (
            "system",
            "cli:create_organization",
        )


def test_every_request_gets_a_well_formed_request_id_echoed(client):
    given = client.get("/healthz", HTTP_X_REQUEST_ID="req-from-client.1")
    invented = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")

    assert given["X-Request-ID"] == "req-from-client.1"
    assert invented["X-Request-ID"] != "bad id with spaces"
    assert len(invented["X-Request-ID"]) == 32


# Signing in, through the real login view.


@pytest.fixture
def member(django_user_model):
    org = new_org()
    user = django_user_model.objects.create_user(
        f"member-{next(_numbers)}", "member@example.com", PASSWORD
    )
    email_mark_verified(user)
    membership_add(organization=org, user=user, role="owner")
    return org, user


def test_sign_in_and_sign_out_are_recorded_in_the_members_organisations(client, member):
    org, user = member

    response = client.post(
        "/accounts/login/",
        {"login": user.username, "password": PASSWORD},
        HTTP_X_REQUEST_ID="sign-in-1",
        HTTP_USER_AGENT="pytest-browser",
    )
    assert response.status_code == 302
    client.post("/accounts/logout/")

    signed_in = the_event("auth.signed_in", org.pk)
    assert (signed_in.actor_type, signed_in.actor_id) == ("user", str(user.pk))
    assert signed_in.actor_email == "member@example.com"
    assert signed_in.ip_address == "127.0.0.1"
    assert signed_in.request_id == "sign-in-1"
    assert signed_in.user_agent == "pytest-browser"
    signed_out = the_event("auth.signed_out", org.pk)
    assert signed_out.actor_id == str(user.pk)
    assert verify(org.pk).ok


@pytest.fixture(autouse=True)
def _fresh_sign_in_budget():
    cache.delete("audit:signin-failures:127.0.0.1")


def test_sign_in_fails_when_it_cannot_be_recorded(client, member, monkeypatch):
    org, user = member
    last_login = user.last_login
    monkeypatch.setattr(services, "_append", refuse)

    with pytest.raises(AuditWriteError):
        client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})

    assert "_auth_user_id" not in client.session
    monkeypatch.undo()
    assert events(org.pk, action="auth.signed_in") == []
    user.refresh_from_db()
    assert user.last_login == last_login  # the sign-in rolled back whole


def test_a_guessing_run_cannot_flood_the_trail(client):
    before = len(events(None, action="auth.sign_in_failed"))
    for n in range(signals.FAILED_SIGN_IN_RECORDS_PER_MINUTE + 5):
        client.post("/accounts/login/", {"login": f"guess-{n}", "password": "x"})

    recorded = len(events(None, action="auth.sign_in_failed")) - before
    assert recorded == signals.FAILED_SIGN_IN_RECORDS_PER_MINUTE


def test_failed_sign_in_to_an_account_is_recorded_on_its_organisations(client, member):
    org, user = member

    response = client.post(
        "/accounts/login/", {"login": user.username, "password": "wrong-guess-1"}
    )
    assert response.status_code == 200

    failed = the_event("auth.sign_in_failed", org.pk)
    assert failed.outcome == AuditEvent.Outcome.FAILURE
    assert (failed.target_type, failed.target_id) == ("accounts.user", str(user.pk))
    assert failed.actor_id == ""  # nobody is signed in yet
    assert "wrong-guess-1" not in stored_text(failed)


def test_failed_sign_in_naming_no_account_stores_no_identifier(client):
    attempted = "attacker-chosen-name-<script>"
    before = len(events(None, action="auth.sign_in_failed"))

    client.post("/accounts/login/", {"login": attempted, "password": "x" * 20})

    platform = events(None, action="auth.sign_in_failed")
    assert len(platform) == before + 1
    event = platform[-1]
    assert event.outcome == AuditEvent.Outcome.FAILURE
    assert attempted not in stored_text(event) and "x" * 20 not in stored_text(event)
    assert event.target_id == ""
    assert verify(None).ok


def test_staff_sign_in_is_also_recorded_on_the_platform_chain(client, member):
    org, user = member
    user.is_staff = True
    user.save()
    before = len(events(None, action="auth.signed_in"))

    client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})

    assert len(events(None, action="auth.signed_in")) == before + 1
    the_event("auth.signed_in", org.pk)


# The admin site.


@pytest.fixture
def superuser(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        f"root-{next(_numbers)}", f"root{next(_numbers)}@example.com", PASSWORD
    )
    otp_signed_in(client, user)
    return user


def test_an_admin_change_is_recorded_with_its_values(client, superuser):
    org = new_org(name="Before")

    response = client.post(
        f"/admin/accounts/organization/{org.pk}/change/",
        {
            "name": "After",
            "slug": org.slug,
            "plan": "pro",
            "audit_retention_days": "",
            "deleted_at_0": "",
            "deleted_at_1": "",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content[:2000]

    event = the_event("admin.changed", org.pk)
    assert (event.actor_type, event.actor_id) == ("user", str(superuser.pk))
    assert json_of(event.before) == {"name": "Before", "plan": "free"}
    assert json_of(event.after) == {"name": "After", "plan": "pro"}
    assert "Changed" in json_of(event.detail)["change"]
    assert verify(org.pk).ok


def test_an_admin_change_to_a_person_records_which_fields_not_their_values(
    client, superuser, django_user_model
):
    person = django_user_model.objects.create_user(
        f"bella-{next(_numbers)}", "bella.private@home.example", PASSWORD
    )
    form = {
        "username": person.username,
        "email": "bella.new@home.example",
        "first_name": "Realname",
        "last_name": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "_save": "Save",
    }
    response = client.post(f"/admin/accounts/user/{person.pk}/change/", form)
    assert response.status_code == 302, response.content[:2000]

    with platform_context():
        event = AuditEvent.objects.get(
            action="admin.changed", target_id=str(person.pk), organization=None
        )
    stored = event.before + event.after + event.detail
    for personal in ["bella", "Realname", person.username]:
        assert personal not in stored
    assert {"email", "first_name"} <= set(json_of(event.after)["changed"])
    assert event.before == ""


def test_an_admin_change_that_cannot_be_recorded_is_not_made(
    client, superuser, monkeypatch
):
    org = new_org(name="Kept")
    monkeypatch.setattr(services, "_append", refuse)

    with pytest.raises(AuditWriteError):
        client.post(
            f"/admin/accounts/organization/{org.pk}/change/",
            {"name": "Lost", "slug": org.slug, "plan": "free", "_save": "Save"},
        )

    org.refresh_from_db()
    assert org.name == "Kept"


def test_an_admin_bulk_deletion_is_recorded_per_object(
    client, superuser, django_user_model
):
    org = new_org()
    users = [
        django_user_model.objects.create_user(f"bulk-{n}", f"bulk-{n}@example.com")
        for n in (next(_numbers), next(_numbers))
    ]
    memberships = [membership_add(organization=org, user=user) for user in users]

    response = client.post(
        "/admin/accounts/membership/",
        {
            "action": "delete_selected",
            "_selected_action": [m.pk for m in memberships],
            "post": "yes",
        },
    )
    assert response.status_code == 302

    deleted = events(org.pk, action="admin.deleted")
    assert sorted(e.target_id for e in deleted) == sorted(
        str(m.pk) for m in memberships
    )
    assert {e.actor_id for e in deleted} == {str(superuser.pk)}
    with tenant_context(org):
        assert not Membership.objects.filter(organization=org).exists()
    assert verify(org.pk).ok


def test_a_provider_key_deleted_in_the_admin_goes_through_the_service(
    client, superuser
):
    org = new_org()
    credential = provider_credential_set(
        organization=org, provider="openai", secret=PROVIDER_KEY
    )

    response = client.post(
        "/admin/providers/providercredential/",
        {
            "action": "delete_selected",
            "_selected_action": [credential.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302

    assert the_event("admin.deleted", org.pk).target_id == str(credential.pk)
    assert the_event("provider_key.deleted", org.pk).actor_id == str(superuser.pk)
    with tenant_context(org):
        assert not ProviderCredential.objects.filter(pk=credential.pk).exists()
    assert verify(org.pk).ok


def test_an_admin_revoke_action_is_recorded_by_the_service(client, superuser):
    org = new_org()
    api_key, _ = api_key_create(project=new_project(org), name="admin-revoked")

    client.post(
        "/admin/keys/apikey/",
        {"action": "revoke", "_selected_action": [api_key.pk]},
    )

    event = the_event("api_key.revoked", org.pk)
    assert event.actor_id == str(superuser.pk)
    with platform_context():
        assert ApiKey.objects.get(pk=api_key.pk).revoked_at is not None


def test_every_registered_admin_is_audited():
    assert check_admins_are_audited() == []


def test_an_admin_that_does_not_audit_fails_the_check():
    site = django_admin.site
    model = AuditEvent
    site.register(model, django_admin.ModelAdmin)
    try:
        errors = check_admins_are_audited()
    finally:
        site.unregister(model)
    assert [error.id for error in errors] == ["audit.E001"]
    assert not isinstance(django_admin.ModelAdmin(model, site), AuditedAdmin)
