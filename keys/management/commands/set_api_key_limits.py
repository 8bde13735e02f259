from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from keys.limits import LimitError
from keys.management.commands.create_api_key import add_limit_arguments, limits_from
from keys.services import api_key_by_public_id, api_key_update_limits


class Command(AuditedCommand):
    help = (
        "Replace a gateway key's limits (the options of create_api_key); with "
        "no limit options, the key has none. Takes effect on the next request."
    )

    def add_arguments(self, parser):
        parser.add_argument("id", help="the key's public id")
        add_limit_arguments(parser)

    def handle(self, *args, **options):
        api_key = api_key_by_public_id(options["id"])
        if api_key is None:
            raise CommandError(f"no API key {options['id']!r}")
        try:
            api_key = api_key_update_limits(
                api_key=api_key, limits=limits_from(options)
            )
        except LimitError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{api_key.public_id}: {api_key.limits or 'no limits'}")
