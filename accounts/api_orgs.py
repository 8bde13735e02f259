"""The management API for organisations, members, invitations and the
person's own management tokens. Each view asks ``accounts.policy``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.http import Http404
from django.urls import reverse

from allauth.account.internal.flows.reauthentication import (
    did_recently_reauthenticate,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from accounts.invitations import (
    InvitationError,
    SlugTaken,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    open_invitations,
    organization_start,
)
from accounts.models import Invitation, ManagementToken, Membership, Organization
from accounts.services import LastOwner, membership_change_role, membership_remove
from accounts.tenancy import owned_or_404, tenant_context
from accounts.tokens import token_create, token_revoke
from gateway_project.schema import EMAIL, SLUG_TEXT, TEXT, body, error, name, one_of


def _is_email(value: str) -> bool:
    try:
        EmailValidator()(value)
    except ValidationError:
        return False
    return len(value) <= 254


REAUTHENTICATE = (
    "Confirm your password or passkey first (POST /accounts/reauthenticate/), "
    "or use a management token."
)


def require_fresh(request: Request) -> None:
    """Sensitive actions over a session need a fresh password or passkey
    check, as on the pages; a management token is that check itself. The
    403 says ``"code": "reauthentication_required"``."""
    if request.auth is None and not did_recently_reauthenticate(request._request):
        raise PermissionDenied(
            {"detail": REAUTHENTICATE, "code": "reauthentication_required"}
        )


def fields(
    data: Any, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict:
    """The request's fields, or a DRF-shaped 400 for missing or unknown ones."""
    data = data if isinstance(data, dict) else {}
    errors = {
        name: ["This field is required."] for name in required if name not in data
    }
    errors |= {
        name: ["Unknown field."] for name in data if name not in (*required, *optional)
    }
    if errors:
        raise _Invalid(errors)
    return data


def clean_name(value: Any, field: str, limit: int = 200) -> str:
    """A name as given: text of 1 to ``limit`` printable characters."""
    if not isinstance(value, str) or not value.strip():
        raise _Invalid({field: ["Give a name."]})
    if len(value) > limit:
        raise _Invalid({field: [f"At most {limit} characters."]})
    if not value.isprintable():
        raise _Invalid({field: ["Control characters are not allowed."]})
    return value.strip()


class _Invalid(Exception):
    def __init__(self, errors: dict) -> None:
        self.errors = errors


def handles_invalid(method):  # noqa: ANN001, ANN201
    def wrapper(self, request, *args, **kwargs):  # noqa: ANN001, ANN202
        try:
            return method(self, request, *args, **kwargs)
        except _Invalid as exc:
            return Response(exc.errors, status=400)

    wrapper.__doc__ = method.__doc__
    wrapper.__name__ = method.__name__
    return wrapper


class OrganizationList(APIView):
    """GET the organisations you belong to; POST ``{slug, name}`` starts one,
    which you own, with a ``default`` project."""

    def get(self, request: Request) -> Response:
        mine = policy.organizations_for(request.user, "org.view")
        return Response({"results": [organization_document(o, request) for o in mine]})

    @extend_schema(request=body({"slug": SLUG_TEXT}, {"name": name()}))
    @handles_invalid
    def post(self, request: Request) -> Response:
        data = fields(request.data, ("slug",), ("name",))
        slug = data["slug"]
        if not isinstance(slug, str):
            return Response({"slug": ["A short name, as text."]}, status=400)
        name = clean_name(data.get("name", slug), "name")
        try:
            organization = organization_start(user=request.user, slug=slug, name=name)
        except (SlugTaken, ValueError) as exc:
            return Response({"slug": [str(exc)]}, status=400)
        return Response(organization_document(organization, request), status=201)


class OrganizationDetail(APIView):
    def get(self, request: Request, org: str) -> Response:
        organization = policy.organization_for(request.user, org, "org.view")
        return Response(organization_document(organization, request))


class MemberList(APIView):
    """GET the members and their roles."""

    def get(self, request: Request, org: str) -> Response:
        organization = policy.organization_for(request.user, org, "members.view")
        with tenant_context(organization):
            people = (
                Membership.objects.for_organization(organization)
                .select_related("user")
                .order_by("pk")
            )
            return Response({"results": [member_document(m) for m in people]})


class MemberDetail(APIView):
    """PATCH ``{role}`` changes a member's role; DELETE removes them. Only
    owners change owners; the last owner stays."""

    @extend_schema(
        request=body({"role": one_of(Membership.Role.values)}),
        responses={200: OpenApiTypes.OBJECT, 409: error(409)},
    )
    @handles_invalid
    def patch(self, request: Request, org: str, member_id: int) -> Response:
        organization = policy.organization_for(request.user, org, "members.manage")
        data = fields(request.data, ("role",))
        membership = _membership(organization, member_id)
        role = data["role"]
        if role not in Membership.Role.values:
            return Response({"role": [f"Choose one of {Membership.Role.values}."]}, 400)
        _check_owner_rules(request, organization, membership, role)
        require_fresh(request)
        try:
            membership = membership_change_role(membership=membership, role=role)
        except LastOwner as exc:
            return Response({"role": [str(exc)]}, status=409)
        return Response(member_document(membership))

    @extend_schema(responses={204: None, 409: error(409)})
    def delete(self, request: Request, org: str, member_id: int) -> Response:
        organization = policy.organization_for(request.user, org, "members.manage")
        membership = _membership(organization, member_id)
        _check_owner_rules(request, organization, membership, membership.role)
        require_fresh(request)
        try:
            membership_remove(membership=membership)
        except LastOwner as exc:
            return Response({"detail": str(exc)}, status=409)
        return Response(status=204)


class InvitationList(APIView):
    """GET open invitations; POST ``{email, role}`` mails one."""

    def get(self, request: Request, org: str) -> Response:
        organization = policy.organization_for(request.user, org, "members.invite")
        return Response(
            {
                "results": [
                    invitation_document(i) for i in open_invitations(organization)
                ]
            }
        )

    @extend_schema(
        request=body({"email": EMAIL}, {"role": one_of(Membership.Role.values)}),
        responses={201: OpenApiTypes.OBJECT, 409: error(409)},
    )
    @handles_invalid
    def post(self, request: Request, org: str) -> Response:
        organization = policy.organization_for(request.user, org, "members.invite")
        data = fields(request.data, ("email",), ("role",))
        role = data.get("role", Membership.Role.MEMBER)
        if role not in Membership.Role.values:
            return Response({"role": [f"Choose one of {Membership.Role.values}."]}, 400)
        if role == Membership.Role.OWNER and not policy.can(
            request.user, "members.owners", organization
        ):
            raise PermissionDenied("Only owners invite owners.")
        email = data["email"]
        if not isinstance(email, str) or not _is_email(email.strip()):
            return Response({"email": ["Enter a valid email address."]}, status=400)
        email = email.strip()
        require_fresh(request)
        link = request.build_absolute_uri(
            reverse("invitation", args=[organization.slug, "TOKEN"])
        ).replace("TOKEN", "{token}")
        try:
            invitation = invitation_create(
                organization=organization,
                email=email,
                role=role,
                invited_by=request.user,
                link=link,
            )
        except InvitationError as exc:
            return Response({"email": [str(exc)]}, status=409)
        return Response(invitation_document(invitation), status=201)


class InvitationDetail(APIView):
    def delete(self, request: Request, org: str, invitation_id: int) -> Response:
        organization = policy.organization_for(request.user, org, "members.invite")
        invitation = owned_or_404(
            Invitation, organization, "invitation", pk=invitation_id
        )
        invitation_revoke(invitation=invitation)
        return Response(status=204)


class InvitationAccept(APIView):
    """POST ``{organization, token}`` (from the mailed link) to join."""

    @extend_schema(request=body({"organization": SLUG_TEXT, "token": TEXT}))
    @handles_invalid
    def post(self, request: Request) -> Response:
        data = fields(request.data, ("organization", "token"))
        organization = Organization.objects.filter(
            slug=str(data["organization"]), deleted_at__isnull=True
        ).first()
        if organization is None:
            return Response({"token": ["This invitation is not valid any more."]}, 400)
        try:
            membership = invitation_accept(
                organization=organization, token=str(data["token"]), user=request.user
            )
        except InvitationError as exc:
            return Response({"token": [str(exc)]}, status=400)
        return Response(member_document(membership), status=201)


class TokenList(APIView):
    """GET your management tokens; POST ``{name, days}`` makes one, whose
    value is in this answer only (``days`` 1 to 365, default 90)."""

    def get(self, request: Request) -> Response:
        tokens = ManagementToken.objects.filter(user=request.user).order_by("-pk")
        return Response({"results": [token_document(t) for t in tokens]})

    @extend_schema(
        request=body(
            {"name": name(100)},
            {"days": {"type": "integer", "minimum": 1, "maximum": 365}},
        )
    )
    @handles_invalid
    def post(self, request: Request) -> Response:
        data = fields(request.data, ("name",), ("days",))
        days = data.get("days", 90)
        if type(days) is not int or not 1 <= days <= 365:
            return Response({"days": ["A whole number from 1 to 365."]}, status=400)
        name = clean_name(data["name"], "name", 100)
        require_fresh(request)
        token, value = token_create(user=request.user, name=name, days=days)
        return Response({**token_document(token), "token": value}, status=201)


class TokenDetail(APIView):
    def delete(self, request: Request, public_id: str) -> Response:
        token = ManagementToken.objects.filter(
            user=request.user, public_id=public_id
        ).first()
        if token is None:
            raise Http404("No such token.")
        token_revoke(token)
        return Response(status=204)


def _membership(organization: Organization, member_id: int) -> Membership:
    return owned_or_404(
        Membership, organization, "member", related=("user",), pk=member_id
    )


def _check_owner_rules(
    request: Request, organization: Organization, membership: Membership, role: str
) -> None:
    touches_owner = Membership.Role.OWNER in (membership.role, role)
    if touches_owner and not policy.can(request.user, "members.owners", organization):
        raise PermissionDenied("Only owners make, change or remove owners.")


def organization_document(organization: Organization, request: Request) -> dict:
    return {
        "slug": organization.slug,
        "name": organization.name,
        "plan": organization.plan,
        "role": policy.role_in(request.user, organization),
        "created_at": organization.created_at,
    }


def member_document(membership: Membership) -> dict:
    return {
        "id": membership.pk,
        "user": membership.user.username,
        "email": membership.user.email,
        "role": membership.role,
        "created_at": membership.created_at,
    }


def invitation_document(invitation: Invitation) -> dict:
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "role": invitation.role,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
    }


def token_document(token: ManagementToken) -> dict:
    return {
        "id": token.public_id,
        "name": token.name,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }
