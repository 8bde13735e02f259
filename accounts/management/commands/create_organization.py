from django.core.management.base import CommandError
from django.db import IntegrityError

from accounts.models import Organization
from accounts.services import organization_create, project_create
from audit.commands import AuditedCommand


class Command(AuditedCommand):
    help = "Create an organisation and, optionally, its first project."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default="")
        parser.add_argument("--plan", default="free", choices=Organization.Plan.values)
        parser.add_argument("--project", default="", help="slug of a first project")

    def handle(self, *args, **options):
        try:
            organization = organization_create(
                slug=options["slug"], name=options["name"], plan=options["plan"]
            )
        except IntegrityError:
            raise CommandError(f"organisation {options['slug']!r} exists") from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if options["project"]:
            project_create(organization=organization, slug=options["project"])
        self.stdout.write(f"created organisation {organization.slug}")
