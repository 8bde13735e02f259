from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from keys.services import (
    KeyCacheUnreachable,
    api_key_by_public_id,
    api_key_revoke,
)


class Command(AuditedCommand):
    help = "Revoke a gateway API key by its public id; it stops working at once."

    def add_arguments(self, parser):
        parser.add_argument("id", help="the key's public id")

    def handle(self, *args, **options):
        api_key = api_key_by_public_id(options["id"])
        if api_key is None:
            raise CommandError(f"no API key {options['id']!r}")
        try:
            api_key_revoke(api_key=api_key)
        except KeyCacheUnreachable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"revoked {api_key.public_id}")
