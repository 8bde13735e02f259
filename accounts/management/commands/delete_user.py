from django.core.management.base import CommandError

from accounts.models import User
from accounts.privacy import PrivacyError, user_delete
from audit.commands import AuditedCommand


class Command(AuditedCommand):
    help = (
        "Delete a person's account (their right to deletion): personal data "
        "removed, audit records kept under a pseudonym, organisations they own "
        "with no other member deleted with it."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--yes", action="store_true", help="confirm the deletion")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}")
        if not options["yes"]:
            raise CommandError("this cannot be undone; pass --yes to delete")
        try:
            plan = user_delete(user)
        except PrivacyError as exc:
            raise CommandError(str(exc)) from None
        deleted = ", ".join(organization.slug for organization in plan.deleted)
        self.stdout.write(
            f"deleted user {user.pk}; left {len(plan.leaving)} organisation(s)"
            + (f"; deleted organisation(s) {deleted}" if deleted else "")
        )
