import json
import os

from django.core.management.base import CommandError

from accounts.models import User
from accounts.privacy import user_data_export
from audit.commands import AuditedCommand


class Command(AuditedCommand):
    help = (
        "Write everything held about a person as JSON (their right of access), "
        "to standard output or to a file readable only by its owner."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--output", help="write to this file instead")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}")
        text = json.dumps(user_data_export(user), indent=2, ensure_ascii=False)
        if not options["output"]:
            self.stdout.write(text)
            return
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with os.fdopen(os.open(options["output"], flags, 0o600), "w") as handle:
            handle.write(text + "\n")
        self.stdout.write(f"wrote the data of user {user.pk} to {options['output']}")
