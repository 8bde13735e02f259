import logging

from django.core.management.base import CommandError
from django.db import DatabaseError

from accounts.models import Organization
from audit import retention
from audit.commands import AuditedCommand
from audit.context import Actor, acting_as
from guardrails.retention import purge_events

logger = logging.getLogger(__name__)


class Command(AuditedCommand):
    # Guardrail events follow the same retention as the audit records.
    help = (
        "Remove audit records older than each organisation's plan keeps them "
        "(Free 30 days, Pro 90, Enterprise its own setting, default 365), "
        "leaving a checkpoint in the chain. Safe to run from cron at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="only this organisation (slug)")

    def handle(self, *args, **options):
        with acting_as(Actor.system("audit_purge")):
            if options["org"]:
                organization = Organization.objects.filter(slug=options["org"]).first()
                if organization is None:
                    raise CommandError(f"no organisation {options['org']!r}")
                results, failed = [retention.purge(organization)], list[str]()
            else:
                results, failed = retention.purge_all()
        removed = sum(result.removed for result in results)
        chains = sum(1 for result in results if result.removed)
        self.stdout.write(f"removed {removed} audit records from {chains} chain(s)")
        events = self._purge_guardrail_events(options["org"], failed)
        self.stdout.write(f"removed {events} guardrail events")
        if failed:
            raise CommandError(
                f"could not purge: {', '.join(failed)} (see the log)", returncode=1
            )

    def _purge_guardrail_events(self, slug: str | None, failed: list[str]) -> int:
        organizations = Organization.objects.order_by("pk")
        if slug:
            organizations = organizations.filter(slug=slug)
        removed = 0
        for organization in organizations:
            try:
                removed += purge_events(organization)
            except DatabaseError:
                logger.exception(
                    "guardrail event purge failed for %s", organization.slug
                )
                failed.append(f"{organization.slug} (guardrail events)")
        return removed
