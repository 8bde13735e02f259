"""The management API: management tokens, organisations, members,
invitations, keys, provider keys and usage, each tried by three people (an
owner, a teammate and an outsider), and the OpenAPI schema."""

from __future__ import annotations

import json
import re

from django.core import mail
from django.test import Client

import pytest

from accounts import policy
from accounts.services import project_create
from accounts.tenancy import platform_context
from accounts.tests.conftest import (
    PASSWORD,
    join,
    organization,
    person,
    reauthenticated,
)
from accounts.tokens import token_create
from keys.models import ApiKey
from keys.tokens import check_secret

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "sk-test-provider-secret-1234567890"


@pytest.fixture
def acme():
    org = organization("acme")
    project_create(organization=org, slug="default")
    owner, teammate, outsider = person("olivia"), person("tom"), person("xena")
    join(org, owner, "owner")
    join(org, teammate, "member")
    return org, owner, teammate, outsider


def bearer(user) -> Client:
    _, value = token_create(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {value}")


def send(client: Client, method: str, path: str, body: dict | None = None):
    if method == "get":
        return client.get(path)
    return getattr(client, method)(
        path, json.dumps(body or {}), content_type="application/json"
    )


# Management tokens ---------------------------------------------------------------


def test_a_token_is_made_after_a_fresh_check_and_works_without_a_session(acme):
    _, owner, _, _ = acme
    client = Client()
    client.force_login(owner)

    asked = send(client, "post", "/api/v1/me/tokens/", {"name": "ci"})
    assert asked.status_code == 403
    assert asked.json()["detail"].startswith("Confirm your password")

    reauthenticated(client, owner)
    made = send(client, "post", "/api/v1/me/tokens/", {"name": "ci", "days": 30})
    assert made.status_code == 201
    value = made.json()["token"]
    assert value.startswith("wmt_")
    listed = client.get("/api/v1/me/tokens/").json()["results"]
    assert value not in json.dumps(listed)

    api = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {value}")
    assert api.get("/api/v1/orgs/").json()["results"][0]["role"] == "owner"
    created = send(api, "post", "/api/v1/orgs/", {"slug": "by-token"})
    assert created.status_code == 201  # no session, so no CSRF token needed

    send(client, "delete", f"/api/v1/me/tokens/{made.json()['id']}/")
    assert api.get("/api/v1/orgs/").status_code == 401


def test_a_wrong_token_and_a_session_without_csrf_are_refused(acme):
    _, owner, _, _ = acme
    wrong = Client(HTTP_AUTHORIZATION="Bearer wmt_0000000000000000_nope")
    assert wrong.get("/api/v1/orgs/").status_code == 401

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    refused = send(browser, "post", "/api/v1/orgs/", {"slug": "no-csrf"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]


# Three people on every endpoint --------------------------------------------------

# (method, path, body, status for owner, teammate, outsider)
ENDPOINTS = [
    ("get", "orgs/{org}/", None, 200, 200, 404),
    ("get", "orgs/{org}/members/", None, 200, 200, 404),
    ("get", "orgs/{org}/invitations/", None, 200, 403, 404),
    ("post", "orgs/{org}/invitations/", {"email": "n@example.test"}, 201, 403, 404),
    ("get", "orgs/{org}/keys/", None, 200, 200, 404),
    ("post", "orgs/{org}/keys/", {"name": "k", "project": "default"}, 201, 201, 404),
    ("get", "orgs/{org}/projects/", None, 200, 200, 404),
    ("post", "orgs/{org}/projects/", {"slug": "p2"}, 201, 403, 404),
    ("get", "orgs/{org}/provider-keys/", None, 200, 200, 404),
    ("post", "orgs/{org}/provider-keys/", {"provider": "openai", "key": SECRET},
     201, 403, 404),
    ("get", "orgs/{org}/usage", None, 200, 200, 404),
    ("get", "orgs/{org}/guardrails/policy", None, 200, 200, 404),
    ("get", "orgs/{org}/guardrails/rules/", None, 200, 403, 404),
    ("get", "orgs/{org}/guardrails/events", None, 200, 403, 404),
    ("get", "orgs/{org}/audit-events/", None, 200, 403, 404),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "expected"), [
    pytest.param(m, p, b, tuple(e), id=f"{m} {p}") for m, p, b, *e in ENDPOINTS
])  # fmt: skip
def test_owner_teammate_and_outsider(acme, method, path, body, expected):
    org, owner, teammate, outsider = acme
    url = "/api/v1/" + path.format(org=org.slug)

    people = (owner, teammate, outsider)
    seen = tuple(send(bearer(p), method, url, body).status_code for p in people)

    assert seen == expected
    if method == "get":
        assert Client().get(url).status_code in (401, 403)


def test_an_outsider_learns_nothing_from_an_error(acme):
    org, _, _, outsider = acme

    answer = bearer(outsider).get(f"/api/v1/orgs/{org.slug}/keys/")

    assert answer.json() == {"detail": "No such organisation."}


# What the endpoints do --------------------------------------------------------------


def stored(public_id: str) -> ApiKey:
    with platform_context():
        return ApiKey.objects.get(public_id=public_id)


def test_a_key_made_over_the_api_is_in_that_answer_only(acme):
    org, owner, _, _ = acme
    api = bearer(owner)

    body = {"name": "ci", "project": "default", "limits": {"rpm": 10}}
    made = send(api, "post", f"/api/v1/orgs/{org.slug}/keys/", body)
    full = made.json()["key"]
    key_id = made.json()["id"]
    rotated = send(api, "post", f"/api/v1/orgs/{org.slug}/keys/{key_id}/rotate",
                   {"grace_hours": 0})  # fmt: skip
    bad = send(api, "post", f"/api/v1/orgs/{org.slug}/keys/",
               {"name": "x", "project": "nope", "color": "red"})  # fmt: skip

    assert made.status_code == 201 and made.json()["limits"] == {"rpm": 10}
    assert check_secret(full, stored(key_id).secret_hash)
    assert full not in api.get(f"/api/v1/orgs/{org.slug}/keys/").content.decode()
    assert rotated.status_code == 201 and rotated.json()["key"] != full
    assert stored(key_id).revoked_at is not None
    assert bad.status_code == 400 and bad.json() == {"color": ["Unknown field."]}
    send(api, "delete", f"/api/v1/orgs/{org.slug}/keys/{rotated.json()['id']}/")
    assert stored(rotated.json()["id"]).revoked_at is not None


def test_members_and_invitations_over_the_api(acme):
    org, owner, teammate, _ = acme
    ivy = person("ivy")
    api = bearer(owner)
    members = api.get(f"/api/v1/orgs/{org.slug}/members/").json()["results"]
    tom = next(m for m in members if m["user"] == teammate.username)

    promoted = send(api, "patch", f"/api/v1/orgs/{org.slug}/members/{tom['id']}/",
                    {"role": "admin"})  # fmt: skip
    by_admin = send(bearer(teammate), "post", f"/api/v1/orgs/{org.slug}/invitations/",
                    {"email": "boss@example.test", "role": "owner"})  # fmt: skip
    invited = send(bearer(teammate), "post", f"/api/v1/orgs/{org.slug}/invitations/",
                   {"email": ivy.email, "role": "viewer"})  # fmt: skip

    assert promoted.status_code == 200 and policy.role_in(teammate, org) == "admin"
    assert by_admin.status_code == 403
    assert invited.status_code == 201
    token = re.search(r"/invitations/[^/]+/([^/\s]+)/", mail.outbox[-1].body).group(1)
    joined = send(bearer(ivy), "post", "/api/v1/invitations/accept",
                  {"organization": org.slug, "token": token})  # fmt: skip
    assert joined.status_code == 201 and policy.role_in(ivy, org) == "viewer"


def test_provider_keys_over_the_api_never_show_the_key(acme, settings, fake_upstream):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = True
    org, owner, _, _ = acme
    api = bearer(owner)

    # The local stand-in provider, so the connection test leaves no machine.
    stored = send(api, "post", f"/api/v1/orgs/{org.slug}/provider-keys/",
                  {"provider": "openai", "key": SECRET,
                   "base_url": fake_upstream.base_url + "/v1"})  # fmt: skip
    listed = api.get(f"/api/v1/orgs/{org.slug}/provider-keys/")
    credential = stored.json()["id"]
    tested = send(
        api, "post", f"/api/v1/orgs/{org.slug}/provider-keys/{credential}/test"
    )

    assert SECRET not in stored.content.decode() + listed.content.decode()
    assert listed.json()["results"][0]["hint"].endswith("7890")
    assert tested.json()["ok"] is True
    assert SECRET not in tested.content.decode()
    assert fake_upstream.requests[-1].headers["authorization"] == f"Bearer {SECRET}"


def test_the_schema_and_its_docs():
    client = Client()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/orgs/{org}/keys/{public_id}/rotate" in paths
    assert "managementToken" in schema.json()["components"]["securitySchemes"]
    assert docs.status_code == 200
    assert b"cdn.jsdelivr" not in docs.content and b"unpkg" not in docs.content
    assert PASSWORD not in docs.content.decode()


def test_the_schema_says_what_each_operation_answers():
    paths = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = paths["paths"]

    def codes(path: str, method: str) -> set[str]:
        return set(paths[path][method]["responses"])

    keys = "/api/v1/orgs/{org}/keys/"
    assert codes(keys, "post") == {"201", "400", "401", "403", "404"}
    assert codes(keys, "get") == {"200", "401", "403", "404"}
    assert codes("/api/v1/orgs/{org}/guardrails/test", "post") >= {"200", "400"}
    assert "409" in codes("/api/v1/orgs/{org}/members/{member_id}/", "delete")
    assert codes("/api/v1/me", "delete") >= {"204", "400", "409", "429"}
    new_key = paths[keys]["post"]["requestBody"]["content"]["application/json"]
    assert new_key["schema"]["required"] == ["name", "project"]
    usage = paths["/api/v1/orgs/{org}/usage"]["get"]
    assert {p["name"] for p in usage["parameters"]} >= {"days", "project", "key"}
    export = paths["/api/v1/orgs/{org}/audit-events/export"]["get"]
    assert set(export["responses"]["200"]["content"]) == {
        "text/csv",
        "application/json",
    }


# Found by trying it ------------------------------------------------------------


def test_what_a_token_does_is_recorded_as_its_person(acme):
    from audit.models import AuditEvent

    org, owner, _, _ = acme

    send(bearer(owner), "post", f"/api/v1/orgs/{org.slug}/keys/",
         {"name": "audited", "project": "default"})  # fmt: skip

    with platform_context():
        event = AuditEvent.objects.filter(action="api_key.created").latest("id")
    assert (event.actor_type, event.actor_id) == ("user", str(owner.pk))


@pytest.mark.parametrize("name", ["x" * 201, "x\u0000y", "", "tab\tname"])
def test_a_key_name_must_be_printable_text_of_at_most_200(acme, name):
    org, owner, _, _ = acme

    refused = send(bearer(owner), "post", f"/api/v1/orgs/{org.slug}/keys/",
                   {"name": name, "project": "default"})  # fmt: skip

    assert refused.status_code == 400 and "name" in refused.json()


def test_inviting_over_a_session_asks_for_a_fresh_check(acme):
    org, owner, _, _ = acme
    browser = Client()
    browser.force_login(owner)

    asked = send(browser, "post", f"/api/v1/orgs/{org.slug}/invitations/",
                 {"email": "eve@example.test", "role": "owner"})  # fmt: skip

    assert asked.status_code == 403
    assert not mail.outbox


def test_me_says_who_you_are(acme):
    org, owner, _, _ = acme

    me = bearer(owner).get("/api/v1/me").json()

    assert me["email"] == owner.email
    assert me["organisations"] == [
        {"slug": org.slug, "name": org.name, "role": "owner"}
    ]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/me/tokens/", {"name": "a" * 5000}),
        ("/api/v1/me/tokens/", {"name": "ab\u0000cd"}),
        ("/api/v1/me/tokens/", {"name": {"a": 1}}),
        ("/api/v1/orgs/", {"slug": "s5000", "name": "a" * 5000}),
        ("/api/v1/orgs/", {"slug": "s5", "name": "ab\u0000cd"}),
        ("/api/v1/orgs/", {"slug": "s6", "name": ["a"]}),
        ("/api/v1/orgs/", {"slug": ["s7"]}),
    ],
)
def test_names_must_be_printable_text_everywhere(acme, path, body):
    _, owner, _, _ = acme

    refused = send(bearer(owner), "post", path, body)

    assert refused.status_code == 400


def test_removals_and_the_export_over_a_session_ask_for_a_fresh_check(acme):
    org, owner, teammate, _ = acme
    credential = send(bearer(owner), "post", f"/api/v1/orgs/{org.slug}/provider-keys/",
                      {"provider": "openai", "key": SECRET}).json()["id"]  # fmt: skip
    members = bearer(owner).get(f"/api/v1/orgs/{org.slug}/members/").json()["results"]
    tom = next(m for m in members if m["user"] == teammate.username)
    browser = Client()
    browser.force_login(owner)

    answers = [
        send(browser, "delete", f"/api/v1/orgs/{org.slug}/members/{tom['id']}/"),
        send(browser, "delete", f"/api/v1/orgs/{org.slug}/provider-keys/{credential}/"),
        browser.get("/api/v1/me/export"),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403]
    assert {a.json()["code"] for a in answers} == {"reauthentication_required"}
    assert policy.role_in(teammate, org) == "member"


def test_a_token_write_to_a_mistyped_path_is_a_json_404_not_a_csrf_page(acme):
    # Found by the schema fuzz test: a token needs no CSRF token, but the
    # catch-all for unknown /api/ paths asked for one and answered a page.
    _, owner, _, _ = acme
    _, value = token_create(user=owner, name="test")
    api = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {value}")

    answer = api.delete("/api/v1/me/tokens/%C2%A9/")

    assert answer.status_code == 404
    assert answer.json() == {"detail": "Not found."}
