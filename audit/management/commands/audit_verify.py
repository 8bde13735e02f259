import re
from pathlib import Path

from django.core.management.base import CommandError

from accounts.models import Organization
from audit.commands import AuditedCommand
from audit.verify import verify


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
        chains: list[tuple[str, int | None]]
        if options["org"]:
            organization = Organization.objects.filter(slug=options["org"]).first()
            if organization is None:
                raise CommandError(f"no organisation {options['org']!r}")
            chains = [(organization.slug, organization.pk)]
        else:
            # Parentheses: no organisation's slug can take the platform's name.
            chains = [("(platform)", None)] + [
                (slug, pk)
                for pk, slug in Organization.objects.order_by("pk").values_list(
                    "pk", "slug"
                )
            ]
        anchors = _anchors(options["anchors"]) if options["anchors"] else {}
        broken = 0
        for name, org_id in chains:
            verdict = verify(org_id, anchor=anchors.get(name))
            if verdict.ok:
                head = (
                    f", head {verdict.head[0]}:{verdict.head[1]}"
                    if verdict.head
                    else ""
                )
                self.stdout.write(f"{name}: ok, {verdict.checked} records{head}")
            else:
                broken += 1
                self.stdout.write(
                    f"{name}: BROKEN at record {verdict.broken_at}: {verdict.reason}"
                    f" ({verdict.checked} records verified before it)"
                )
        if broken:
            raise CommandError(f"{broken} audit chain(s) broken", returncode=1)


_ANCHOR = re.compile(r"^(\S+): ok, \d+ records, head (\d+):([0-9a-f]{64})$")


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
