"""Organisation pages: the list, one organisation, its members and
invitations. Each view asks ``accounts.policy`` what the person may do."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from allauth.account.decorators import reauthentication_required
from allauth.account.internal.flows.reauthentication import (
    raise_if_reauthentication_required,
)

from accounts import policy
from accounts.forms import InvitationForm, OrganizationForm, ProjectForm, RoleForm
from accounts.invitations import (
    InvitationError,
    SlugTaken,
    addressed_to,
    invitation_accept,
    invitation_create,
    invitation_find,
    invitation_revoke,
    open_invitations,
    organization_start,
)
from accounts.models import Invitation, Membership, Organization, Project
from accounts.services import (
    LastOwner,
    membership_change_role,
    membership_remove,
    project_create,
)
from accounts.tenancy import owned_or_404, tenant_context

Role = Membership.Role


@login_required
@require_http_methods(["GET", "POST"])
def organizations(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = organization_start(
                user=request.user,
                slug=form.cleaned_data["slug"],
                name=form.cleaned_data["name"],
            )
        except (SlugTaken, ValueError) as exc:
            form.add_error("slug", str(exc))
        else:
            messages.success(request, f"{organization.name} is ready.")
            return redirect("organization", org=organization.slug)
    mine = policy.organizations_for(request.user, "org.view")
    status = 400 if form.errors else 200
    return render(
        request, "orgs/list.html", {"organizations": mine, "form": form}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def organization(request: HttpRequest, org: str) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "org.view")
    role = policy.role_in(request.user, organization)
    form = ProjectForm(request.POST or None)
    if request.method == "POST":
        policy.organization_for(request.user, org, "projects.manage")
        if form.is_valid():
            try:
                project_create(
                    organization=organization,
                    slug=form.cleaned_data["slug"],
                    name=form.cleaned_data["name"],
                )
            except (ValueError, IntegrityError):
                form.add_error("slug", "This organisation has a project by that name.")
            else:
                messages.success(request, "Project created.")
                return redirect("organization", org=organization.slug)
    with tenant_context(organization):
        projects = list(Project.objects.for_organization(organization).order_by("slug"))
    return render(
        request,
        "orgs/detail.html",
        {
            "organization": organization,
            "projects": projects,
            "project_form": form,
            **_abilities(request, organization, role),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, org: str) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "members.view")
    role = policy.role_in(request.user, organization)
    form = InvitationForm(request.POST or None, roles=_grantable(request, organization))
    status = 200
    if request.method == "POST":
        policy.organization_for(request.user, org, "members.invite")
        raise_if_reauthentication_required(request, app="")
        if form.is_valid():
            link = request.build_absolute_uri(
                reverse("invitation", args=[organization.slug, "TOKEN"])
            ).replace("TOKEN", "{token}")
            try:
                invitation_create(
                    organization=organization,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                    link=link,
                )
            except InvitationError as exc:
                form.add_error("email", str(exc))
            else:
                messages.success(
                    request, f"Invitation sent to {form.cleaned_data['email']}."
                )
                return redirect("members", org=organization.slug)
        status = 400
    with tenant_context(organization):
        people = list(
            Membership.objects.for_organization(organization)
            .select_related("user")
            .order_by("user__email", "user__username")
        )
    abilities = _abilities(request, organization, role)
    rows = [
        {
            "membership": m,
            "form": RoleForm(
                initial={"role": m.role}, roles=_grantable(request, organization)
            )
            if _may_change(request, organization, m)
            else None,
        }
        for m in people
    ]
    return render(
        request,
        "orgs/members.html",
        {
            "organization": organization,
            "rows": rows,
            "invitations": open_invitations(organization)
            if abilities["may_invite"]
            else [],
            "form": form,
            **abilities,
        },
        status=status,
    )


@login_required
@require_POST
def member_change(request: HttpRequest, org: str, member_id: int) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "members.manage")
    membership = _membership(organization, member_id)
    if not _may_change(request, organization, membership):
        raise PermissionDenied("Only owners change owners.")
    return _member_change(request, organization, membership)


@reauthentication_required
def _member_change(
    request: HttpRequest, organization: Organization, membership: Membership
) -> HttpResponse:
    try:
        if request.POST.get("remove"):
            membership_remove(membership=membership)
            messages.success(request, "Member removed.")
        else:
            form = RoleForm(request.POST, roles=_grantable(request, organization))
            if not form.is_valid():
                messages.error(request, "Choose one of the roles offered.")
                return redirect("members", org=organization.slug)
            membership_change_role(
                membership=membership, role=form.cleaned_data["role"]
            )
            messages.success(request, "Role changed.")
    except LastOwner as exc:
        messages.error(request, f"Not changed: {exc}.")
    if membership.user_id == request.user.pk and request.POST.get("remove"):
        return redirect("organizations")
    return redirect("members", org=organization.slug)


@login_required
@require_POST
def invitation_cancel(
    request: HttpRequest, org: str, invitation_id: int
) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "members.invite")
    invitation = owned_or_404(Invitation, organization, "invitation", pk=invitation_id)
    invitation_revoke(invitation=invitation)
    messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    return redirect("members", org=organization.slug)


@login_required
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, org: str, token: str) -> HttpResponse:
    organization = Organization.objects.filter(
        slug=org, deleted_at__isnull=True
    ).first()
    error = ""
    found = None
    if organization is None:
        error = "This invitation is not valid any more."
    else:
        try:
            found = invitation_find(organization, token)
        except InvitationError as exc:
            error = str(exc)
        else:
            if not addressed_to(found, request.user):
                error = (
                    "This invitation is for another address. Sign in with the "
                    "address it was sent to."
                )
    if request.method == "POST" and organization is not None and not error:
        try:
            invitation_accept(organization=organization, token=token, user=request.user)
        except InvitationError as exc:
            error = str(exc)
        else:
            messages.success(request, f"You joined {organization.name}.")
            return redirect("organization", org=organization.slug)
    return render(
        request,
        "orgs/invitation.html",
        {"organization": organization, "invitation": found, "error": error},
        status=400 if error else 200,
    )


def _abilities(request: HttpRequest, organization: Organization, role: Any) -> dict:
    can = lambda action: policy.can(request.user, action, organization)  # noqa: E731
    return {
        "role": role,
        "may_invite": can("members.invite"),
        "may_manage": can("members.manage"),
        "may_audit": can("audit.view"),
        "may_keys": can("keys.manage"),
        "may_projects": can("projects.manage"),
    }


def _grantable(
    request: HttpRequest, organization: Organization
) -> list[tuple[str, str]]:
    """The roles this person may give: owners give any, admins all but owner."""
    if policy.can(request.user, "members.owners", organization):
        return list(Role.choices)
    return [(value, label) for value, label in Role.choices if value != Role.OWNER]


def _may_change(
    request: HttpRequest, organization: Organization, membership: Membership
) -> bool:
    if not policy.can(request.user, "members.manage", organization):
        return False
    if membership.role == Role.OWNER:
        return policy.can(request.user, "members.owners", organization)
    return True


def _membership(organization: Organization, member_id: int) -> Membership:
    return owned_or_404(
        Membership, organization, "member", related=("user",), pk=member_id
    )
