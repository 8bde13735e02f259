import getpass
import sys

from django.core.management.base import CommandError

from accounts.models import Organization, Project
from accounts.services import organization_by_slug, project_by_slug
from audit.commands import AuditedCommand
from providers.netguard import BlockedDestination
from providers.services import CredentialError, provider_credential_set


class Command(AuditedCommand):
    help = (
        "Store a provider API key, read from standard input (never from the "
        "command line, where other users and shell history could see it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--provider", required=True)
        parser.add_argument("--base-url", default="")
        parser.add_argument("--project", default="", help="narrow to one project")

    def handle(self, *args, **options):
        try:
            organization = organization_by_slug(options["org"])
            project = None
            if options["project"]:
                project = project_by_slug(organization, options["project"])
        except (Organization.DoesNotExist, Project.DoesNotExist):
            raise CommandError("no such organisation or project") from None
        if sys.stdin.isatty():
            secret = getpass.getpass("Provider key (not shown): ").strip()
        else:
            secret = sys.stdin.readline().strip()
        try:
            credential = provider_credential_set(
                organization=organization,
                provider=options["provider"],
                secret=secret,
                base_url=options["base_url"],
                project=project,
            )
        except (CredentialError, BlockedDestination) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"stored {credential.provider} key {credential.masked}")
