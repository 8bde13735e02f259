"""The guardrail page: everyone reads the policy, owners and admins change
it, add rules and try text; outsiders see nothing."""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_context
from accounts.tests.conftest import join, organization, person
from guardrails.api import policy_document
from guardrails.models import CustomRule

pytestmark = pytest.mark.django_db

POLICY = {
    "pii_action": "redact", "pii_applies_to": "both",
    "secrets_action": "redact", "secrets_applies_to": "input",
    "jailbreak_action": "block", "jailbreak_applies_to": "input",
    "jailbreak_threshold": "0.6", "on_error": "closed",
    "phone_region": "gb",
}  # fmt: skip


@pytest.fixture
def acme():
    org = organization("acme")
    owner, viewer, outsider = person("olivia"), person("vic"), person("xena")
    join(org, owner, "owner")
    join(org, viewer, "viewer")
    return org, owner, viewer, outsider


def effective(org):
    with tenant_context(org):
        return policy_document(org, None)["effective"]


def test_an_owner_changes_the_policy(client, acme):
    org, owner, _, _ = acme
    client.force_login(owner)

    response = client.post(f"/orgs/{org.slug}/guardrails/", POLICY)

    assert response.status_code == 302
    policy = effective(org)
    assert policy["pii"] == {"action": "redact", "applies_to": "both"}
    assert policy["jailbreak"]["threshold"] == 0.6
    assert policy["phone_region"] == "GB"


def test_a_viewer_reads_but_cannot_change_it(client, acme):
    org, _, viewer, outsider = acme
    client.force_login(viewer)

    page = client.get(f"/orgs/{org.slug}/guardrails/")
    refused = client.post(f"/orgs/{org.slug}/guardrails/", POLICY)

    assert page.status_code == 200 and b"disabled" in page.content
    assert b"Add the rule" not in page.content
    assert refused.status_code == 403
    assert effective(org)["pii"]["action"] == "flag"
    client.force_login(outsider)
    assert client.get(f"/orgs/{org.slug}/guardrails/").status_code == 404


def test_a_bad_policy_or_rule_is_a_form_error(client, acme):
    org, owner, _, _ = acme
    client.force_login(owner)

    bad_policy = client.post(
        f"/orgs/{org.slug}/guardrails/", {**POLICY, "jailbreak_action": "redact"}
    )
    bad_rule = client.post(
        f"/orgs/{org.slug}/guardrails/rules/",
        {"name": "evil", "kind": "regex", "pattern": "(a", "action": "block",
         "applies_to": "both"},
    )  # fmt: skip

    assert bad_policy.status_code == 400 and b"errorlist" in bad_policy.content
    assert bad_rule.status_code == 400 and b"errorlist" in bad_rule.content
    with tenant_context(org):
        assert not CustomRule.objects.for_organization(org).exists()


def test_a_rule_is_added_tried_and_removed(client, acme):
    org, owner, _, _ = acme
    client.force_login(owner)

    client.post(
        f"/orgs/{org.slug}/guardrails/rules/",
        {"name": "codenames", "kind": "keywords", "pattern": "Falcon\nOsprey",
         "action": "redact", "applies_to": "both"},
    )  # fmt: skip
    tried = client.post(
        f"/orgs/{org.slug}/guardrails/try/",
        {"text": "launch Falcon on Monday", "direction": "input"},
    )

    assert tried.status_code == 200
    assert b"launch [CODENAMES_1] on Monday" in tried.content
    with tenant_context(org):
        rule = CustomRule.objects.for_organization(org).get()
    client.post(f"/orgs/{org.slug}/guardrails/rules/{rule.pk}/remove/")
    with tenant_context(org):
        assert not CustomRule.objects.for_organization(org).exists()
