from decimal import Decimal, InvalidOperation

from django.core.management.base import CommandError

from accounts.commands import organization_named
from accounts.services import organization_update
from audit.commands import AuditedCommand


def _amount(text: str) -> str:
    try:
        Decimal(text)
    except InvalidOperation:
        raise CommandError(f"{text!r} is not an amount in dollars") from None
    return text


class Command(AuditedCommand):
    help = (
        "Set the organisation's price for a model, in US dollars per million "
        "tokens; a key with a spend budget cannot use a model priced nowhere."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--model", required=True, help="provider/model")
        parser.add_argument("--input-per-mtok", type=_amount)
        parser.add_argument("--output-per-mtok", type=_amount)
        parser.add_argument("--max-output", type=int, help="the model's output limit")
        parser.add_argument("--remove", action="store_true", help="drop the price")

    def handle(self, *args, **options):
        organization = organization_named(options["org"])
        prices = dict(organization.model_prices)
        model = options["model"]
        if options["remove"]:
            prices.pop(model, None)
        else:
            if options["input_per_mtok"] is None or options["output_per_mtok"] is None:
                raise CommandError("--input-per-mtok and --output-per-mtok are needed")
            prices[model] = {
                "input_per_mtok": options["input_per_mtok"],
                "output_per_mtok": options["output_per_mtok"],
            }
            if options["max_output"]:
                prices[model]["max_output"] = options["max_output"]
        try:
            organization_update(organization=organization, model_prices=prices)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"prices for {organization.slug}: {len(prices)} models")
