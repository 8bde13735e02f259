from django.core.management.base import CommandError

from accounts.commands import project_named
from accounts.services import project_update
from audit.commands import AuditedCommand
from keys.limits import PERIODS
from keys.usage_now import project_budget_usage


class Command(AuditedCommand):
    help = (
        "Set the spend and token budgets every key of a project shares, on top "
        "of each key's own; --clear removes them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--budget-usd", help="spend budget in US dollars")
        parser.add_argument("--budget-tokens", type=int, help="token budget")
        parser.add_argument("--budget-period", choices=PERIODS)
        parser.add_argument("--clear", action="store_true", help="remove the budgets")

    def handle(self, *args, **options):
        project = project_named(options["org"], options["project"])
        names = ("budget_usd", "budget_tokens", "budget_period")
        limits = {name: options[name] for name in names if options[name] is not None}
        if options["clear"] == bool(limits):
            raise CommandError("give --budget-usd and/or --budget-tokens, or --clear")
        try:
            project = project_update(project=project, limits=limits)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not project.limits:
            self.stdout.write(f"project {project.slug}: no budgets")
            return
        for name, use in project_budget_usage(project).items():
            self.stdout.write(
                f"{name}: {use['used']} used of {use['limit']} ({use['period']})"
            )
