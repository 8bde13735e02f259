import json

from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from keys.services import DEFAULT_GRACE_HOURS, api_key_by_public_id, api_key_rotate


class Command(AuditedCommand):
    help = (
        "Rotate a gateway API key: print its successor once, and let the old key "
        "work for a grace period (0 revokes it at once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("id", help="the key's public id")
        parser.add_argument(
            "--grace-hours",
            type=float,
            default=DEFAULT_GRACE_HOURS,
            help=f"how long the old key keeps working (default {DEFAULT_GRACE_HOURS})",
        )
        parser.add_argument("--json", action="store_true", help="print a JSON object")

    def handle(self, *args, **options):
        api_key = api_key_by_public_id(options["id"])
        if api_key is None:
            raise CommandError(f"no API key {options['id']!r}")
        try:
            successor, full = api_key_rotate(
                api_key=api_key, grace_hours=options["grace_hours"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "id": successor.public_id,
                        "key": full,
                        "replaces": api_key.public_id,
                    }
                )
            )
            return
        self.stdout.write(f"id:  {successor.public_id}\nkey: {full}")
        self.stderr.write(
            f"Store the key now: it cannot be shown again. {api_key.public_id} "
            f"works for {options['grace_hours']:g} more hour(s)."
        )
