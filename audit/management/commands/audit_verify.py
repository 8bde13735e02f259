import re
from pathlib import Path

from django.core.management.base import CommandError

from accounts.models import Organization
from audit.commands import AuditedCommand
from audit.verify import verify

PLATFORM = "platform"


class Command(AuditedCommand):
    help = (
        "Check every audit chain (or one organisation's) and report the first "
        "broken link; exits 1 when a chain is broken. Each intact chain's head "
        "is printed; keep the output outside the database and pass it back "
        "with --anchors, so removing the newest records is caught too."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="only this organisation's chain (slug)")
        parser.add_argument(
            "--anchors", type=Path, help="the output of an earlier audit_verify"
        )

    def handle(self, *args, **options):
        chains = self._chains(options["org"])
        anchors = _anchors(options["anchors"]) if options["anchors"] else {}
        broken = 0
        for key, slug, org_id in chains:
            verdict = verify(org_id, anchor=anchors.get(key))
            if verdict.ok:
                head = verdict.head and f", head {verdict.head[0]}:{verdict.head[1]}"
                self.stdout.write(
                    f"{key} {slug}: ok, {verdict.checked} records{head or ''}"
                )
            else:
                broken += 1
                self.stdout.write(
                    f"{key} {slug}: BROKEN at record {verdict.broken_at}: "
                    f"{verdict.reason} ({verdict.checked} records verified before it)"
                )
        if not options["org"]:
            # Chains are keyed by id, not slug: a renamed organisation keeps its
            # anchor, and an anchored chain cannot quietly drop out.
            for key in sorted(set(anchors) - {key for key, _, _ in chains}):
                broken += 1
                self.stdout.write(f"{key}: BROKEN: the anchored chain is missing")
        if broken:
            raise CommandError(f"{broken} audit chain(s) broken", returncode=1)

    def _chains(self, slug: str | None) -> list[tuple[str, str, int | None]]:
        if slug:
            organization = Organization.objects.filter(slug=slug).first()
            if organization is None:
                raise CommandError(f"no organisation {slug!r}")
            return [(f"org:{organization.pk}", organization.slug, organization.pk)]
        organizations = Organization.objects.order_by("pk").values_list("pk", "slug")
        return [(PLATFORM, "(platform)", None)] + [
            (f"org:{pk}", slug, pk) for pk, slug in organizations
        ]


_ANCHOR = re.compile(
    r"^(platform|org:\d+) \S+: ok, \d+ records, head (\d+):([0-9a-f]{64})$"
)


def _anchors(path: Path) -> dict[str, tuple[int, str]]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    found = {}
    for line in lines:
        if match := _ANCHOR.match(line.strip()):
            found[match[1]] = (int(match[2]), match[3])
    return found
