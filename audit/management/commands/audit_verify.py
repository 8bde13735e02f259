from django.core.management.base import CommandError

from accounts.models import Organization
from audit.commands import AuditedCommand
from audit.verify import verify


class Command(AuditedCommand):
    help = (
        "Check every audit chain (or one organisation's) and report the first "
        "broken link; exits 1 when a chain is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="only this organisation's chain (slug)")

    def handle(self, *args, **options):
        chains: list[tuple[str, int | None]]
        if options["org"]:
            organization = Organization.objects.filter(slug=options["org"]).first()
            if organization is None:
                raise CommandError(f"no organisation {options['org']!r}")
            chains = [(organization.slug, organization.pk)]
        else:
            chains = [("platform", None)] + [
                (slug, pk)
                for pk, slug in Organization.objects.order_by("pk").values_list(
                    "pk", "slug"
                )
            ]
        broken = 0
        for name, org_id in chains:
            verdict = verify(org_id)
            if verdict.ok:
                self.stdout.write(f"{name}: ok, {verdict.checked} records")
            else:
                broken += 1
                self.stdout.write(
                    f"{name}: BROKEN at record {verdict.broken_at}: {verdict.reason}"
                    f" ({verdict.checked} records verified before it)"
                )
        if broken:
            raise CommandError(f"{broken} audit chain(s) broken", returncode=1)
