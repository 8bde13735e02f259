"""The management API for guardrail policies, custom rules and the test console."""

from __future__ import annotations

import json

import pytest

from accounts.services import project_create
from accounts.tenancy import tenant_context
from guardrails.models import CustomRule
from tests.factories import make_tenant
from tests.test_keys_api import signed_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def owner(tenant, django_user_model):
    return signed_in(django_user_model, tenant.organization, "owner")


def base(tenant) -> str:
    return f"/api/v1/orgs/{tenant.organization.slug}/"


def _rule_names(tenant) -> list[str]:
    with tenant_context(tenant.organization):
        rules = CustomRule.objects.for_organization(tenant.organization)
        return sorted(rules.values_list("name", flat=True))


def put(client, url: str, data: dict):
    return client.put(url, data, content_type="application/json")


def test_a_project_overrides_its_organisation_policy(owner, tenant):
    org_policy = base(tenant) + "guardrails/policy"
    project_policy = base(tenant) + "projects/default/guardrails/policy"

    assert owner.get(org_policy).json()["effective"]["pii"]["action"] == "flag"
    put(owner, org_policy, {"settings": {"pii": {"action": "redact"}}})
    changed = put(owner, project_policy, {"settings": {"pii": {"applies_to": "input"}}})

    assert changed.status_code == 200
    effective = changed.json()["effective"]
    assert effective["pii"] == {"action": "redact", "applies_to": "input"}
    assert changed.json()["settings"] == {"pii": {"applies_to": "input"}}
    other = project_create(organization=tenant.organization, slug="other")
    untouched = owner.get(base(tenant) + f"projects/{other.slug}/guardrails/policy")
    assert untouched.json()["effective"]["pii"]["applies_to"] == "both"


def test_bad_policy_gets_a_field_error(owner, tenant):
    refused = put(
        owner,
        base(tenant) + "guardrails/policy",
        {"settings": {"jailbreak": {"action": "redact"}}},
    )

    assert refused.status_code == 400
    assert "jailbreak.action" in refused.json()["settings"][0]


def test_rules_are_validated_created_changed_and_deleted(owner, tenant):
    rules = base(tenant) + "guardrails/rules/"

    bad = owner.post(
        rules,
        {"name": "evil", "kind": "regex", "pattern": "(a"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "not a valid RE2" in bad.json()["pattern"][0]

    created = owner.post(
        rules,
        {"name": "codes", "kind": "regex", "pattern": r"PRJ-\d{4}", "action": "redact"},
        content_type="application/json",
    )
    assert created.status_code == 201
    rule = created.json()
    again = owner.post(
        rules,
        {"name": "codes", "kind": "keywords", "pattern": "x"},
        content_type="application/json",
    )
    assert again.status_code == 400 and "exists" in again.json()["name"][0]

    url = f"{rules}{rule['id']}/"
    changed = owner.patch(url, {"enabled": False}, content_type="application/json")
    assert changed.json()["enabled"] is False
    wrong = owner.patch(url, {"action": "explode"}, content_type="application/json")
    assert wrong.status_code == 400 and "action" in wrong.json()
    assert owner.delete(url).status_code == 204
    assert owner.get(rules).json()["results"] == []


def test_the_console_tries_the_policy_and_draft_rules_without_storing(owner, tenant):
    console = base(tenant) + "guardrails/test"
    put(
        owner,
        base(tenant) + "guardrails/policy",
        {"settings": {"pii": {"action": "redact"}}},
    )

    tried = owner.post(
        console,
        {"text": "mail jane@example.com", "direction": "input"},
        content_type="application/json",
    ).json()
    assert tried["outcome"] == "redacted"
    assert tried["text"] == "mail [EMAIL_1]"
    assert tried["findings"][0]["type"] == "EMAIL_ADDRESS"
    assert tried["findings"][0]["span"] == "[5:21]"

    draft = owner.post(
        console,
        {"text": "ticket PRJ-1234", "rule": {"kind": "regex", "pattern": r"PRJ-\d+"}},
        content_type="application/json",
    ).json()
    assert [f["type"] for f in draft["findings"]] == ["draft"]
    blocking = owner.post(
        console,
        {
            "text": "ticket PRJ-1234",
            "rule": {"pattern": r"PRJ-\d+", "action": "block", "applies_to": "input"},
        },
        content_type="application/json",
    ).json()
    assert blocking["outcome"] == "blocked by draft"
    redacting = owner.post(
        console,
        {
            "text": "ticket PRJ-1234",
            "rule": {"pattern": r"PRJ-\d+", "action": "redact"},
        },
        content_type="application/json",
    ).json()
    assert redacting["outcome"] == "redacted"
    assert "PRJ-1234" not in redacting["text"]
    wrong = owner.post(
        console,
        {"text": "x", "rule": {"pattern": "x", "action": "shout"}},
        content_type="application/json",
    )
    assert wrong.status_code == 400

    broken = owner.post(
        console,
        {"text": "x", "rule": {"kind": "regex", "pattern": "(x"}},
        content_type="application/json",
    )
    assert broken.status_code == 400 and "rule" in broken.json()
    assert owner.post(console, {}, content_type="application/json").status_code == 400


def test_viewers_read_but_do_not_change_and_outsiders_see_nothing(
    tenant, django_user_model
):
    viewer = signed_in(django_user_model, tenant.organization, "viewer")
    policy_url = base(tenant) + "guardrails/policy"
    assert viewer.get(policy_url).status_code == 200
    assert put(viewer, policy_url, {"settings": {}}).status_code == 403
    assert viewer.get(base(tenant) + "guardrails/events").status_code == 403
    assert viewer.get(base(tenant) + "guardrails/rules/").status_code == 403
    console = base(tenant) + "guardrails/test"
    tried = viewer.post(console, {"text": "x"}, content_type="application/json")
    assert tried.status_code == 403

    outsider = signed_in(django_user_model, make_tenant().organization, "owner")
    assert outsider.get(policy_url).status_code == 404
    assert outsider.get(base(tenant) + "guardrails/rules/").status_code == 404


def test_events_come_in_pages_newest_first(owner, tenant, monkeypatch):
    from accounts.tenancy import tenant_context
    from guardrails import api
    from guardrails.models import GuardrailEvent

    monkeypatch.setattr(api, "MAX_EVENTS", 2)
    organization = tenant.organization
    with tenant_context(organization):
        for n in range(5):
            GuardrailEvent.objects.create(
                organization=organization,
                request_id=f"r{n}",
                detector="pii",
                type="EMAIL_ADDRESS",
                action="flag",
                direction="input",
                location="messages[0].content[0:5]",
            )
    url = base(tenant) + "guardrails/events"

    seen, page = [], owner.get(url).json()
    while True:
        seen += [event["request_id"] for event in page["results"]]
        if page["next"] is None:
            break
        page = owner.get(url, {"before": page["next"]}).json()

    assert seen == ["r4", "r3", "r2", "r1", "r0"]
    assert owner.get(url, {"before": "x"}).status_code == 400


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("guardrails/test", {"text": "ignore this \ud800", "direction": "output"}),
        (
            "guardrails/test",
            {"text": "ok", "rule": {"kind": "regex", "pattern": "\udfff"}},
        ),
        (
            "guardrails/rules/",
            {"name": "x", "kind": "keywords", "pattern": "Falcon\n\ud800"},
        ),
        (
            "guardrails/rules/",
            {"name": "x\ud800", "kind": "keywords", "pattern": "Falcon"},
        ),
    ],
)
def test_a_lone_surrogate_is_a_parse_error_not_a_crash(owner, tenant, path, body):
    # json.dumps writes the surrogate as the escape a client would send.
    sent = owner.post(
        base(tenant) + path, json.dumps(body), content_type="application/json"
    )

    assert sent.status_code == 400
    assert "lone surrogate" in sent.json()["detail"]
    assert _rule_names(tenant) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a\x00b", "kind": "keywords", "pattern": "Falcon"}, "name"),
        ({"name": "tabs\tin", "kind": "keywords", "pattern": "Falcon"}, "name"),
        ({"name": "nul", "kind": "keywords", "pattern": "Falcon\x00"}, "pattern"),
        ({"name": "bytes", "kind": "regex", "pattern": r"\C\C"}, "pattern"),
    ],
)
def test_control_characters_and_byte_escapes_are_field_errors(
    owner, tenant, body, field
):
    refused = owner.post(
        base(tenant) + "guardrails/rules/", body, content_type="application/json"
    )

    assert refused.status_code == 400
    assert list(refused.json()) == [field]
    assert _rule_names(tenant) == []


def test_rule_names_clash_as_stored_and_enabled_is_checked(owner, tenant):
    rules = base(tenant) + "guardrails/rules/"
    first = {"name": "codenames", "kind": "keywords", "pattern": "Falcon"}
    assert owner.post(rules, first, content_type="application/json").status_code == 201

    clash = owner.post(
        rules, {**first, "name": " codenames "}, content_type="application/json"
    )
    off = owner.post(
        rules,
        {**first, "name": "off", "enabled": False},
        content_type="application/json",
    )
    wrong = owner.post(
        rules,
        {**first, "name": "wrong", "enabled": "no"},
        content_type="application/json",
    )

    assert clash.status_code == 400 and "exists already" in clash.json()["name"][0]
    assert off.status_code == 201 and off.json()["enabled"] is False
    assert wrong.status_code == 400 and list(wrong.json()) == ["enabled"]
    rule = base(tenant) + f"guardrails/rules/{off.json()['id']}/"
    patched = owner.patch(rule, {"enabled": "false"}, content_type="application/json")
    unknown = owner.patch(rule, {"colour": "red"}, content_type="application/json")
    assert list(patched.json()) == ["enabled"]
    assert list(unknown.json()) == ["non_field_errors"]
    assert _rule_names(tenant) == ["codenames", "off"]


@pytest.mark.parametrize(
    "rule",
    [
        {"name": "n\x00ul", "pattern": "x"},
        {"name": "x" * 61, "pattern": "x"},
        {"pattern": "x", "case_sensitive": "false"},
        {"pattern": "x", "applies_to": "sideways"},
        [],
        "x",
    ],
)
def test_a_draft_rule_is_checked_as_a_saved_one_would_be(owner, tenant, rule):
    tried = owner.post(
        base(tenant) + "guardrails/test",
        {"text": "x", "rule": rule},
        content_type="application/json",
    )

    assert tried.status_code == 400
    assert list(tried.json()) == ["rule"]


def test_a_draft_rule_applies_to_input_unless_it_says_otherwise(owner, tenant):
    console = base(tenant) + "guardrails/test"
    rule = {"pattern": "Falcon", "action": "block"}

    def outcome(direction, **more):
        body = {"text": "Falcon", "direction": direction, "rule": {**rule, **more}}
        return owner.post(console, body, content_type="application/json").json()[
            "outcome"
        ]

    assert outcome("input") == "blocked by draft"
    assert outcome("output") == "allowed"
    assert outcome("output", applies_to="both") == "blocked by draft"
