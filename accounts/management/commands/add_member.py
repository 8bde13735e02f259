from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from accounts.models import Membership, Organization
from accounts.services import (
    membership_add,
    membership_change_role,
    organization_by_slug,
)
from accounts.tenancy import tenant_context
from audit.commands import AuditedCommand


class Command(AuditedCommand):
    help = (
        "Add a user to an organisation with a role, or change the role of one "
        "who is already a member."
    )

    def add_arguments(self, parser):
        parser.add_argument("org", help="the organisation's slug")
        parser.add_argument("username", help="the person's username or email address")
        parser.add_argument(
            "--role", default=Membership.Role.MEMBER, choices=Membership.Role.values
        )

    def handle(self, *args, **options):
        try:
            organization = organization_by_slug(options["org"])
        except Organization.DoesNotExist:
            raise CommandError(f"no organisation {options['org']!r}") from None
        name = options["username"]
        people = get_user_model().objects
        user = (
            people.filter(username=name).first()
            or people.filter(email__iexact=name).first()
        )
        if user is None:
            raise CommandError(f"no user {options['username']!r}")
        with tenant_context(organization):
            membership = Membership.objects.for_organization(organization).filter(
                user=user
            )
            existing = membership.first()
        try:
            if existing is None:
                membership_add(
                    organization=organization, user=user, role=options["role"]
                )
            else:
                membership_change_role(membership=existing, role=options["role"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{user.username} is {options['role']} of {organization.slug}"
        )
