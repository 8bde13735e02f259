import argparse
import json
from datetime import UTC, datetime, time, timedelta

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.commands import project_named
from audit.commands import AuditedCommand
from keys.limits import PERIODS
from keys.models import ApiKey
from keys.services import api_key_create

LIMIT_OPTIONS = (
    "rpm", "tpm", "max_concurrency", "budget_usd", "budget_tokens", "budget_period",
    "allowed_models", "allowed_ips", "allowed_endpoints",
)  # fmt: skip


def _listed(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _moment(text: str) -> datetime:
    """A date (the key works until that day ends, UTC) or an ISO date and time."""
    try:
        moment = parse_date(text) or parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date or ISO date and time")
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment + timedelta(days=1), time.min, tzinfo=UTC)
    elif timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    if moment <= timezone.now():
        raise argparse.ArgumentTypeError("the expiry must be in the future")
    return moment


def add_limit_arguments(parser) -> None:
    """The key limit options, shared with ``set_api_key_limits``."""
    limits = parser.add_argument_group("limits (all optional)")
    limits.add_argument("--rpm", type=int, help="requests per minute")
    limits.add_argument("--tpm", type=int, help="tokens per minute")
    limits.add_argument("--max-concurrency", type=int, help="requests in flight")
    limits.add_argument("--budget-usd", help="spend budget in US dollars")
    limits.add_argument("--budget-tokens", type=int, help="token budget")
    limits.add_argument("--budget-period", choices=PERIODS)
    for name, example in [
        ("models", "openai/gpt-4o-mini,anthropic/*"),
        ("ips", "10.0.0.0/8"),
        ("endpoints", "chat/completions,embeddings"),
    ]:
        limits.add_argument(
            f"--allowed-{name}", type=_listed, help=f"comma-separated: {example}"
        )


def limits_from(options: dict) -> dict:
    return {
        name: options[name] for name in LIMIT_OPTIONS if options.get(name) is not None
    }


class Command(AuditedCommand):
    help = "Create a gateway API key and print it once."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--environment", default="live", choices=ApiKey.Environment.values
        )
        parser.add_argument("--json", action="store_true", help="print a JSON object")
        parser.add_argument("--expires", type=_moment, help="2027-01-31 or an ISO time")
        add_limit_arguments(parser)

    def handle(self, *args, **options):
        project = project_named(options["org"], options["project"])
        limits = limits_from(options)

        try:
            api_key, full = api_key_create(
                project=project,
                name=options["name"],
                environment=options["environment"],
                expires_at=options["expires"],
                limits=limits,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps({"id": api_key.public_id, "key": full}))
        else:
            self.stdout.write(f"id:  {api_key.public_id}\nkey: {full}")
            self.stderr.write("Store the key now: it cannot be shown again.")
