from django.core.management.base import CommandError

from accounts.models import Organization
from accounts.services import organization_by_slug
from audit.commands import AuditedCommand
from providers.services import organization_key_rotate


class Command(AuditedCommand):
    help = "Re-encrypt one organisation's provider credentials under a fresh data key."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")

    def handle(self, *args, **options):
        try:
            organization = organization_by_slug(options["org"])
        except Organization.DoesNotExist:
            raise CommandError(f"no organisation {options['org']!r}") from None
        count = organization_key_rotate(organization=organization)
        self.stdout.write(f"re-encrypted {count} credentials of {organization.slug}")
