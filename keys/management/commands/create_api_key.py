import json

from django.core.management.base import CommandError

from accounts.models import Organization, Project
from accounts.services import organization_by_slug, project_by_slug
from audit.commands import AuditedCommand
from keys.models import ApiKey
from keys.services import api_key_create


class Command(AuditedCommand):
    help = "Create a gateway API key and print it once."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--environment", default="live", choices=ApiKey.Environment.values
        )
        parser.add_argument("--json", action="store_true", help="print a JSON object")

    def handle(self, *args, **options):
        try:
            organization = organization_by_slug(options["org"])
            project = project_by_slug(organization, options["project"])
        except Organization.DoesNotExist:
            raise CommandError(f"no organisation {options['org']!r}") from None
        except Project.DoesNotExist:
            raise CommandError(f"no project {options['project']!r}") from None
        api_key, full = api_key_create(
            project=project, name=options["name"], environment=options["environment"]
        )
        if options["json"]:
            self.stdout.write(json.dumps({"id": api_key.public_id, "key": full}))
        else:
            self.stdout.write(f"id:  {api_key.public_id}\nkey: {full}")
            self.stderr.write("Store the key now: it cannot be shown again.")
