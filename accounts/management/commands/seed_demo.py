"""Create the quick start's organisation ``demo``, project ``default`` and a key.

The demo key is kept in the local data folder (mode 0600) so a second run
prints the same key; this command refuses to run with ``DEBUG`` off.
"""

import os

from django.conf import settings
from django.core.management.base import CommandError

from accounts.models import Organization, Project
from accounts.services import organization_create, project_create
from accounts.tenancy import tenant_context
from audit.commands import AuditedCommand
from guardrails.services import demo_policy_set
from keys import tokens
from keys.models import ApiKey
from keys.services import api_key_create


class Command(AuditedCommand):
    help = "Seed the quick-start organisation, project and API key."

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        # make run serves https when gunicorn.conf.py finds a certificate.
        parser.add_argument(
            "--scheme",
            choices=["http", "https"],
            default="https" if os.environ.get("TLS_CERT_FILE") else "http",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo is for development; DEBUG is off")
        organization = Organization.objects.filter(slug="demo").first()
        if organization is None:
            organization = organization_create(slug="demo", name="Demo")
            # The demo shows the strict end: jailbreaks blocked, PII and
            # secrets redacted. A later run keeps whatever was changed.
            demo_policy_set(organization=organization)
        with tenant_context(organization):
            project = (
                Project.objects.for_organization(organization)
                .filter(slug="default")
                .first()
            )
        if project is None:
            project = project_create(
                organization=organization, slug="default", name="Default"
            )
        key = self._remembered_key(project) or self._new_key(project)
        self.stdout.write(_banner(key, options["scheme"], options["port"]))

    def _path(self):
        return settings.DATA_DIR / "demo-api-key"

    def _remembered_key(self, project: Project) -> str | None:
        path = self._path()
        if not path.exists():
            return None
        key = path.read_text().strip()
        parsed = tokens.parse(key)
        if not parsed:
            return None
        with tenant_context(project.organization_id):
            alive = ApiKey.objects.filter(
                public_id=parsed.public_id, project=project, revoked_at__isnull=True
            ).exists()
        return key if alive else None

    def _new_key(self, project: Project) -> str:
        _, key = api_key_create(project=project, name="quick start")
        fd = os.open(self._path(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


def _banner(key: str, scheme: str, port: str) -> str:
    base = f"{scheme}://127.0.0.1:{port}/v1"
    return f"""
Warden is ready: organisation "demo", project "default".

  API key:  {key}

Try it with curl:

  curl {base}/chat/completions \\
    -H "Authorization: Bearer {key}" \\
    -H "Content-Type: application/json" \\
    -d '{{"model": "demo/echo", "messages": [{{"role": "user", "content": "Hello"}}]}}'

Or with the openai SDK:

  from openai import OpenAI
  client = OpenAI(base_url="{base}", api_key="{key}")
  reply = client.chat.completions.create(
      model="demo/echo", messages=[{{"role": "user", "content": "Hello"}}]
  )
  print(reply.choices[0].message.content)
"""
