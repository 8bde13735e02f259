"""A person downloads everything held about them, and only about them."""

from __future__ import annotations

import io
import json

from django.core.management import call_command

import pytest

from accounts.privacy import EXPORT_ACTION, user_data_export
from accounts.services import project_create
from accounts.tenancy import platform_context
from accounts.tests.conftest import (
    PASSWORD,
    join,
    organization,
    person,
    reauthenticated,
)
from audit.context import Actor
from audit.models import AuditEvent
from audit.services import record
from keys.models import ApiKey
from keys.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice, bob):
    """Alice owns one organisation and belongs to another; Bob shares the first."""
    own, other = organization("own"), organization("other")
    join(own, alice, "owner")
    join(own, bob)
    join(other, alice, "viewer")
    project = project_create(organization=own, slug="default")
    key, full_key = api_key_create(project=project, name="ci", created_by=alice)
    api_key_create(project=project, name="bob's", created_by=bob)
    record("test.alice_acted", organization=own, actor=Actor.user(alice))
    record("test.alice_acted", organization=other, actor=Actor.user(alice))
    record("test.bob_acted", organization=own, actor=Actor.user(bob))
    return {"own": own, "other": other, "key": key, "full_key": full_key}


def exported_events(user, organization_id):
    with platform_context():
        return AuditEvent.objects.filter(
            action=EXPORT_ACTION, target_id=str(user.pk), organization=organization_id
        ).count()


def test_export_holds_the_person_s_profile_memberships_keys_and_actions(alice, world):
    data = user_data_export(alice)

    assert data["profile"]["username"] == alice.username
    assert data["profile"]["email"] == alice.email
    assert data["profile"]["has_password"] is True
    assert {(m["organization"], m["role"]) for m in data["memberships"]} == {
        (world["own"].slug, "owner"),
        (world["other"].slug, "viewer"),
    }
    [key] = data["api_keys_created"]
    assert key["name"] == "ci"
    assert key["key"] == world["key"].masked
    acted = [e for e in data["audit_events"] if e["action"].startswith("test")]
    assert {(e["organization"], e["action"]) for e in acted} == {
        (world["own"].slug, "test.alice_acted"),
        (world["other"].slug, "test.alice_acted"),
    }
    json.dumps(data)  # ready to serialise as it is


def test_export_never_holds_key_secrets_or_hashes(alice, world):
    text = json.dumps(user_data_export(alice))

    with platform_context():
        secret_hash = ApiKey.objects.get(pk=world["key"].pk).secret_hash
    assert secret_hash not in text
    assert world["full_key"][:-4] not in text
    assert "secret_hash" not in text


def test_export_is_recorded_on_each_of_the_person_s_organisations(alice, world):
    user_data_export(alice)

    assert exported_events(alice, world["own"].pk) == 1
    assert exported_events(alice, world["other"].pk) == 1


def test_a_person_without_organisations_is_recorded_on_the_platform_chain():
    loner = person("loner")

    data = user_data_export(loner)

    assert data["memberships"] == []
    assert exported_events(loner, None) == 1


def test_the_page_offers_the_download_and_the_download_is_an_attachment(
    client, alice, world
):
    reauthenticated(client, alice)

    page = client.get("/accounts/me/")
    response = client.post("/accounts/me/export/")

    assert page.status_code == 200
    assert b"Download my data" in page.content
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert json.loads(response.content)["profile"]["username"] == alice.username


def test_the_api_returns_the_same_export(client, alice, world):
    reauthenticated(client, alice)

    response = client.get("/api/v1/me/export")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    assert json.loads(response.content)["profile"]["id"] == alice.pk


def test_the_download_is_a_post_not_a_link(client, alice):
    client.force_login(alice)

    assert client.get("/accounts/me/export/").status_code == 405


def test_a_signed_out_visitor_gets_no_export(client, alice, world):
    assert client.get("/api/v1/me/export").status_code == 401
    response = client.post("/accounts/me/export/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/me/").status_code == 302


def test_one_person_s_export_holds_nothing_of_another_s(client, alice, bob, world):
    reauthenticated(client, bob)

    data = json.loads(client.get("/api/v1/me/export").content)

    assert data["profile"]["id"] == bob.pk
    assert alice.email not in json.dumps(data)
    assert [key["name"] for key in data["api_keys_created"]] == ["bob's"]
    actions = {e["action"] for e in data["audit_events"]}
    assert "test.alice_acted" not in actions


def test_the_command_writes_the_export(alice, world, tmp_path):
    out = io.StringIO()
    target = tmp_path / "alice.json"

    call_command(
        "export_user_data", alice.username, "--output", str(target), stdout=out
    )

    assert json.loads(target.read_text())["profile"]["id"] == alice.pk
    assert target.stat().st_mode & 0o777 == 0o600
    assert PASSWORD not in out.getvalue()


def test_the_export_holds_records_about_the_person_too(client, alice):
    # A failed sign-in names the account it tried as its target, not its actor.
    client.post("/accounts/login/", {"login": alice.username, "password": "no"})

    exported = user_data_export(alice)

    about = [
        e for e in exported["audit_events"] if e["action"] == "auth.sign_in_failed"
    ]
    assert len(about) >= 1


def test_the_download_asks_for_a_fresh_check(client, alice):
    client.force_login(alice)

    asked = client.post("/accounts/me/export/")

    assert asked["Location"].startswith("/accounts/reauthenticate/")


def test_the_export_says_how_the_person_signs_in_but_no_secret(alice):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts.tokens import token_create

    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    _, value = token_create(user=alice, name="ci")

    exported = user_data_export(alice)

    sign_in = exported["sign_in"]
    assert sign_in["email_addresses"][0]["email"] == alice.email
    assert [f["type"] for f in sign_in["second_factors"]] == ["totp"]
    assert sign_in["management_tokens"][0]["name"] == "ci"
    text = json.dumps(exported)
    assert secret not in text and value.split("_", 2)[2] not in text  # wmt_ID_SECRET
