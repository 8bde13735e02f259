from accounts.commands import organization_named
from accounts.services import organization_update
from audit.commands import AuditedCommand


class Command(AuditedCommand):
    help = (
        "Choose what the gateway does with the organisation's rate-limited or "
        "budgeted requests while Redis cannot be reached: refuse them (the "
        "default) or allow them with a warning logged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("policy", choices=["refuse", "allow"])

    def handle(self, *args, **options):
        organization = organization_named(options["org"])
        organization_update(
            organization=organization, limits_fail_open=options["policy"] == "allow"
        )
        self.stdout.write(
            f"{organization.slug}: when limits cannot be checked, "
            f"{options['policy']} requests"
        )
