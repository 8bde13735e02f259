"""The guardrail page of an organisation: its policy, custom rules and a
box to try text against them. Everyone in the organisation reads the
policy; owners and admins change it and see the rules and the box."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import policy as access
from accounts.models import Organization
from accounts.tenancy import tenant_context
from guardrails import services
from guardrails.forms import PolicyForm, RuleForm, TestForm
from guardrails.loading import load
from guardrails.models import CustomRule
from guardrails.policy import PolicyError
from guardrails.rules import RuleError


@login_required
@require_http_methods(["GET", "POST"])
def guardrails_page(request: HttpRequest, org: str) -> HttpResponse:
    organization = access.organization_for(request.user, org, "guardrails.view")
    manages = access.can(request.user, "guardrails.manage", organization)
    form = PolicyForm(request.POST or None, policy=_effective(organization))
    if request.method == "POST":
        access.organization_for(request.user, org, "guardrails.manage")
        if form.is_valid():
            try:
                services.guardrail_policy_set(
                    organization=organization, project=None, settings=form.settings()
                )
            except PolicyError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Policy saved.")
                return redirect("guardrails", org=organization.slug)
    if not manages:
        for field in form.fields.values():
            field.disabled = True
    return _render(
        request,
        organization,
        manages,
        policy_form=form,
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def rule_add(request: HttpRequest, org: str) -> HttpResponse:
    organization = access.organization_for(request.user, org, "guardrails.manage")
    form = RuleForm(request.POST)
    if form.is_valid():
        try:
            with tenant_context(organization):
                services.custom_rule_create(
                    organization=organization, project=None, **form.cleaned_data
                )
        except (RuleError, PolicyError) as exc:
            for field, errors in services.rule_errors(exc).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Rule {form.cleaned_data['name']} added.")
            return redirect("guardrails", org=organization.slug)
    return _render(request, organization, True, rule_form=form, status=400)


@login_required
@require_POST
def rule_delete(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    organization = access.organization_for(request.user, org, "guardrails.manage")
    with tenant_context(organization):
        rule = CustomRule.objects.for_organization(organization).filter(pk=pk).first()
        if rule is None:
            raise Http404("No such rule.")
        services.custom_rule_delete(rule=rule)
    messages.success(request, f"Rule {rule.name} removed.")
    return redirect("guardrails", org=organization.slug)


@login_required
@require_POST
def try_text(request: HttpRequest, org: str) -> HttpResponse:
    organization = access.organization_for(request.user, org, "guardrails.manage")
    form = TestForm(request.POST)
    result = None
    if form.is_valid():
        result = services.console_check(
            organization,
            None,
            form.cleaned_data["text"],
            form.cleaned_data["direction"],
        )
    return _render(
        request,
        organization,
        True,
        test_form=form,
        result=result,
        status=200 if result is not None else 400,
    )


def _render(
    request: HttpRequest,
    organization: Organization,
    manages: bool,
    *,
    status: int = 200,
    **parts: Any,
) -> HttpResponse:
    with tenant_context(organization):
        rules = (
            list(CustomRule.objects.for_organization(organization).order_by("name"))
            if manages
            else []
        )
    if "policy_form" not in parts:
        parts["policy_form"] = PolicyForm(policy=_effective(organization))
    context = {
        "organization": organization,
        "manages": manages,
        "rules": rules,
        "rule_form": RuleForm(),
        "test_form": TestForm(),
        **parts,
    }
    return render(request, "guardrails/page.html", context, status=status)


def _effective(organization: Organization) -> dict[str, Any]:
    """The organisation's policy as the proxy applies it to a project
    without overrides of its own."""
    return load(organization.pk, 0).policy
