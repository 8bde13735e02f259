from django.core.management.base import CommandError

from accounts.models import Organization
from accounts.privacy import PrivacyError, organization_delete
from audit.commands import AuditedCommand


class Command(AuditedCommand):
    help = (
        "Delete an organisation: revoke its gateway keys, delete its provider "
        "keys and members, and destroy its data key, so nothing encrypted for "
        "it can be read again. Its audit trail and usage records stay."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--yes", action="store_true", help="confirm the deletion")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["slug"]).first()
        if organization is None:
            raise CommandError(f"no organisation {options['slug']!r}")
        if not options["yes"]:
            raise CommandError("this cannot be undone; pass --yes to delete")
        try:
            result = organization_delete(organization)
        except PrivacyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"deleted organisation {organization.slug}: revoked "
            f"{result.gateway_keys_revoked} gateway key(s), deleted "
            f"{result.provider_keys_deleted} provider key(s), removed "
            f"{result.members_removed} member(s); its data key is destroyed"
        )
