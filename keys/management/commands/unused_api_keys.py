from django.core.management.base import CommandError

from accounts.models import Organization
from accounts.services import organization_by_slug
from audit.commands import AuditedCommand
from keys.services import KeyCacheUnreachable, api_key_revoke, api_keys_unused


class Command(AuditedCommand):
    help = (
        "List working gateway keys not used for a number of days (never used: "
        "created before then), and revoke them with --revoke."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, required=True)
        parser.add_argument("--org", help="only this organisation (slug)")
        parser.add_argument("--revoke", action="store_true", help="revoke them all")

    def handle(self, *args, **options):
        if options["days"] < 1:
            raise CommandError("--days must be at least 1")
        organization_id = None
        if options["org"]:
            try:
                organization_id = organization_by_slug(options["org"]).pk
            except Organization.DoesNotExist:
                raise CommandError(f"no organisation {options['org']!r}") from None
        keys = api_keys_unused(days=options["days"], organization_id=organization_id)
        for api_key in keys:
            used = (
                api_key.last_used_at.date().isoformat()
                if api_key.last_used_at
                else "never"
            )
            where = f"{api_key.organization.slug}/{api_key.project.slug}"
            self.stdout.write(
                f"{api_key.public_id}  {where}  {api_key.name!r}  last used {used}"
            )
            if options["revoke"]:
                try:
                    api_key_revoke(api_key=api_key)
                except KeyCacheUnreachable as exc:
                    raise CommandError(str(exc)) from None
        verb = "revoked" if options["revoke"] else "found"
        self.stderr.write(f"{verb} {len(keys)} unused key(s)")
