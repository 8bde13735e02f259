"""Changing guardrail policies and custom rules; every change is audited."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import Organization, Project
from accounts.tenancy import tenant_context
from audit.services import record
from guardrails.engine import Blocked, Guard, GuardFailed
from guardrails.loading import load
from guardrails.models import CustomRule, GuardrailPolicy
from guardrails.policy import (
    DEMO_POLICY,
    DETECTORS,
    PolicyError,
    check_rule_action,
    normalise_policy,
)
from guardrails.rules import CompiledRule, RuleError, compile_rule

UNCHANGED: Any = object()


def guardrail_policy_set(
    *, organization: Organization, project: Project | None = None, settings: Any
) -> GuardrailPolicy:
    """Replace the organisation's policy, or the project's overrides of it.

    Raise PolicyError for a policy that cannot be stored.
    """
    settings = normalise_policy(settings)
    if project is not None and project.organization_id != organization.pk:
        raise PolicyError("the project belongs to another organisation")
    with tenant_context(organization):
        policy, _ = GuardrailPolicy.objects.select_for_update().get_or_create(
            organization=organization, project=project
        )
        before = policy.settings
        if before != settings:
            policy.settings = settings
            policy.save(update_fields=["settings", "updated_at"])
            record(
                "guardrails.policy_changed",
                organization=organization,
                target=project or organization,
                before=before,
                after=settings,
            )
    return policy


def demo_policy_set(*, organization: Organization) -> GuardrailPolicy:
    return guardrail_policy_set(organization=organization, settings=DEMO_POLICY)


def custom_rule_create(
    *,
    organization: Organization,
    name: str,
    kind: str,
    pattern: str,
    action: str = "flag",
    applies_to: str = "input",
    case_sensitive: bool = False,
    enabled: bool = True,
    project: Project | None = None,
) -> CustomRule:
    """Create a rule after compiling it; raise RuleError or PolicyError."""
    fields, _ = _checked_rule(
        name=name,
        kind=kind,
        pattern=pattern,
        action=action,
        applies_to=applies_to,
        case_sensitive=case_sensitive,
        enabled=enabled,
    )
    with tenant_context(organization):
        try:
            with transaction.atomic():
                rule = CustomRule.objects.create(
                    organization=organization, project=project, **fields
                )
        except IntegrityError:
            # The one unique constraint: a name per organisation.
            raise RuleError(f"a rule named {fields['name']!r} exists already") from None
        record(
            "guardrails.rule_created",
            organization=organization,
            target=rule,
            after=rule_fields(rule),
        )
    return rule


def custom_rule_update(*, rule: CustomRule, **changes: Any) -> CustomRule:
    """Change a rule's fields (not its name); the result is compiled first."""
    allowed = {"kind", "pattern", "action", "applies_to", "case_sensitive", "enabled"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise RuleError(f"{unknown[0]} cannot be changed")
    with tenant_context(rule.organization_id):
        rule = CustomRule.objects.select_for_update().get(pk=rule.pk)
        before = rule_fields(rule)
        merged = {**before, **changes}
        merged.pop("name")
        fields, _ = _checked_rule(name=rule.name, **merged)
        for name, value in fields.items():
            setattr(rule, name, value)
        after = rule_fields(rule)
        if after != before:
            rule.save()
            record(
                "guardrails.rule_changed",
                organization=rule.organization_id,
                target=rule,
                before={k: v for k, v in before.items() if after[k] != v},
                after={k: v for k, v in after.items() if before[k] != v},
            )
    return rule


def custom_rule_delete(*, rule: CustomRule) -> None:
    with tenant_context(rule.organization_id):
        record(
            "guardrails.rule_deleted",
            organization=rule.organization_id,
            target=rule,
            before=rule_fields(rule),
        )
        rule.delete()


def _checked_rule(
    *, enabled: Any = True, **fields: Any
) -> tuple[dict[str, Any], CompiledRule]:
    """Return a rule's fields as they are stored, and the rule compiled."""
    name = fields["name"]
    if not isinstance(fields["pattern"], str):
        raise RuleError("the pattern must be text")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 60:
        raise RuleError("the name must be 1 to 60 characters")
    if not name.isprintable():
        raise RuleError("the name must not hold control characters")
    if type(fields["case_sensitive"]) is not bool:
        raise RuleError("case_sensitive must be true or false")
    if type(enabled) is not bool:
        raise RuleError("enabled must be true or false")
    action, applies_to = check_rule_action(fields["action"], fields["applies_to"])
    checked = {
        **fields,
        "name": name.strip(),
        "action": action,
        "applies_to": applies_to,
    }
    return {**checked, "enabled": enabled}, compile_rule(**checked)


def rule_fields(rule: CustomRule) -> dict[str, Any]:
    """A rule's settings, as the audit trail and the API show them."""
    return {
        "name": rule.name,
        "kind": rule.kind,
        "pattern": rule.pattern,
        "action": rule.action,
        "applies_to": rule.applies_to,
        "case_sensitive": rule.case_sensitive,
        "enabled": rule.enabled,
    }


RULE_FIELDS = (
    "name",
    "kind",
    "pattern",
    "action",
    "applies_to",
    "case_sensitive",
    "enabled",
)


def rule_errors(exc: Exception) -> dict[str, list[str]]:
    """A rule's RuleError or PolicyError as field errors, by what it names."""
    message = str(exc)
    field = next((f for f in RULE_FIELDS if message.startswith(f)), "pattern")
    if message.startswith(("the name", "a rule named")):
        field = "name"
    elif message.endswith("cannot be changed"):
        field = "non_field_errors"
    return {field: [message]}


# The test console ----------------------------------------------------------


def console_check(
    organization: Organization,
    project: Project | None,
    text: str,
    direction: str,
    draft: Any = None,
) -> dict:
    """What the policy (or only the ``draft`` rule) would do to ``text``.

    Nothing is stored or logged: findings are named by type and span.
    Raises RuleError or PolicyError for a draft rule that cannot be compiled.
    """
    guard = load(organization.pk, project.pk if project else 0).guard()
    if draft is not None:
        guard = _draft_guard(guard, draft)
    return _outcome(guard, text, direction)


def _draft_guard(guard: Guard, draft: Any) -> Guard:
    """The guard with only the draft rule, to try a rule before saving it.

    The draft is checked and acts as it would once saved (the same defaults:
    ``flag``, on input), so the console shows a block or a redaction.
    """
    if not isinstance(draft, dict):
        raise RuleError("the rule must be an object")
    _, rule = _checked_rule(
        name=draft.get("name", "draft"),
        kind=draft.get("kind", "regex"),
        pattern=draft.get("pattern", ""),
        case_sensitive=draft.get("case_sensitive", False),
        action=draft.get("action", "flag"),
        applies_to=draft.get("applies_to", "input"),
    )
    policy = dict(guard.policy)
    for name in DETECTORS:
        policy[name] = {**policy[name], "action": "off"}
    return Guard(policy, [rule], b"draft")


def _outcome(guard: Guard, text: str, direction: str) -> dict:
    try:
        result = guard.check(text, direction=direction, source="user", location="text")
        outcome = "redacted" if result != text else "allowed"
    except Blocked as exc:
        result, outcome = None, f"blocked by {exc.rule}"
    except GuardFailed:
        result, outcome = None, "blocked: a detector failed"
    findings = [
        {
            "detector": hit.detector,
            "type": hit.type,
            "rule": hit.rule,
            "action": hit.action,
            "span": hit.location.removeprefix("text"),
            "confidence": round(hit.confidence, 3),
        }
        for hit in guard.hits
    ]
    return {"outcome": outcome, "text": result, "findings": findings}
