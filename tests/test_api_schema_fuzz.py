"""The management API, fuzzed from its own OpenAPI schema on a live server.

Every operation of /api/schema/ gets generated requests, sent with tenant A's
management token. Each answer must be no 500, must match what the schema
says of its status, content type and body, and must hold nothing of tenant
B's: not its organisation, projects, keys, provider keys, members,
invitations, rules or tokens. Each generated request is sent in A's
organisation as generated, then naming A's own objects by their real ids,
then B's objects in A's organisation, then in B's organisation; the last two
must find nothing. Examples are derandomised, so a run repeats exactly.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.invitations import invitation_create, organization_start
from accounts.services import membership_add, project_create
from accounts.tests.conftest import person
from accounts.tokens import token_create
from guardrails.services import custom_rule_create, guardrail_policy_set
from keys.services import api_key_create
from providers.services import provider_credential_set

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Operations whose real-object variant would reach beyond this machine: the
# provider-key test calls whatever base URL a fuzzed request stored.
NO_REAL_IDS = {("POST", "/api/v1/orgs/{org}/provider-keys/{credential_id}/test")}
# What asking for another tenant's rows may answer: found nothing, or refused
# the request (a method or body type the negative cases make up) before looking.
NOT_THERE = {400, 404, 405, 415}


@dataclass
class TenantData:
    """One tenant's rows: its path parameters and the words only it has."""

    org: str
    path_ids: dict[str, str | int] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)


def make_tenant_data(label: str, upstream_url: str) -> tuple[TenantData, str]:
    """Build a tenant with one of everything; return it and its owner's token."""
    tag = f"{label}{secrets.token_hex(4)}"
    owner, teammate = person(f"{tag}-owner"), person(f"{tag}-mate")
    organization = organization_start(
        user=owner, slug=f"org-{tag}", name=f"Organisation {tag}"
    )
    membership = membership_add(organization=organization, user=teammate, role="member")
    project = project_create(
        organization=organization, slug=f"proj-{tag}", name=f"Project {tag}"
    )
    api_key, _ = api_key_create(project=project, name=f"Key {tag}", created_by=owner)
    credential = provider_credential_set(
        organization=organization,
        provider="openai",
        secret=f"sk-provider-{tag}-0000",
        base_url=upstream_url,
    )
    invitation = invitation_create(
        organization=organization,
        email=f"invitee-{tag}@example.test",
        role="viewer",
        invited_by=owner,
        link="http://testserver/invitations/x/{token}/",
    )
    rule = custom_rule_create(
        organization=organization,
        name=f"Rule {tag}",
        kind="keywords",
        pattern=f"codeword{tag}",
    )
    guardrail_policy_set(organization=organization, project=project, settings={})
    token, value = token_create(user=owner, name=f"Token {tag}")
    data = TenantData(
        org=organization.slug,
        path_ids={
            "slug": project.slug,
            "public_id": api_key.public_id,
            "credential_id": str(credential.pk),
            "member_id": membership.pk,
            "invitation_id": invitation.pk,
            "id": rule.pk,
        },
        words=[
            tag,
            organization.slug,
            project.slug,
            api_key.public_id,
            str(credential.pk),
            owner.username,
            owner.email,
            teammate.username,
            teammate.email,
            invitation.email,
            token.public_id,
        ],
    )
    return data, value


@dataclass
class World:
    a: TenantData
    b: TenantData
    token: str
    upstream: str


@pytest.fixture
def world(gateway, fake_upstream):
    base = fake_upstream.base_url + "/v1"
    a, token = make_tenant_data("a", base)
    b, _ = make_tenant_data("b", base)
    return World(a=a, b=b, token=token, upstream=base)


@pytest.fixture
def api_schema(gateway, world):
    schema = schemathesis.openapi.from_url(gateway.base_url + "/api/schema/")
    schema.config.update(
        base_url=gateway.base_url,
        headers={"Authorization": f"Bearer {world.token}"},
    )
    schema.config.generation.update(
        modes=[
            schemathesis.GenerationMode.POSITIVE,
            schemathesis.GenerationMode.NEGATIVE,
        ]
    )
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis.settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_the_management_api_keeps_to_its_schema_and_its_tenant(case, world):
    leak = no_words_of(world.b)
    operation = (case.method.upper(), case.path)
    params = case.path_parameters or {}

    if "org" in params:
        params["org"] = world.a.org
    if isinstance(case.body, dict) and case.body.get("base_url"):
        # Storing a base URL looks its host up: keep every lookup and call
        # on this machine.
        case.body["base_url"] = world.upstream
    if isinstance(case.body, dict) and isinstance(case.body.get("project"), str):
        # A made-up project slug stops at "no such project"; A's own goes on.
        case.body["project"] = world.a.path_ids["slug"]
    case.call_and_validate(checks=CHECKS, additional_checks=[leak])

    if "org" not in params or case.method.upper() == "OPTIONS":
        # DRF describes the view to any OPTIONS request, the same for every
        # organisation slug; the leak check above covers what it says.
        return
    own = {k: v for k, v in world.a.path_ids.items() if k in params}
    if own and operation not in NO_REAL_IDS:
        params.update(own)
        case.call_and_validate(checks=CHECKS, additional_checks=[leak])
    others = {k: v for k, v in world.b.path_ids.items() if k in params}
    if others and operation not in NO_REAL_IDS:
        params.update(others)
        answer = case.call_and_validate(checks=CHECKS, additional_checks=[leak])
        assert answer.status_code in NOT_THERE, answer.text[:500]
    params["org"] = world.b.org
    answer = case.call_and_validate(checks=CHECKS, additional_checks=[leak])
    assert answer.status_code in NOT_THERE - {400}, answer.text[:500]


def no_words_of(tenant: TenantData):
    def no_other_tenant_data(ctx, response, case) -> None:
        text = response.text or ""
        found = [word for word in tenant.words if word in text]
        if found:
            raise AssertionError(f"the answer holds another tenant's {found}")

    return no_other_tenant_data
