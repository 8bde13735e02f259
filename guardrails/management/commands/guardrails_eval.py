"""Print how the guardrail detectors score on the evaluation data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guardrails.evaluation import PARTS, SUITES, SuiteResult, SuiteUnavailable


class Command(BaseCommand):
    help = (
        "Score the guardrail detectors on a folder of evaluation data, one table "
        "per suite and part."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True, type=Path, help="data folder")
        parser.add_argument("--part", choices=PARTS, default="all")
        parser.add_argument(
            "--suite",
            action="append",
            choices=sorted(SUITES),
            help="repeat for several; all suites when left out",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir: Path = options["data"]
        if not data_dir.is_dir():
            raise CommandError(f"no data folder at {data_dir}")
        parts = ("tune", "holdout") if options["part"] == "all" else (options["part"],)
        for name in options["suite"] or sorted(SUITES):
            for part in parts:
                self._run(name, data_dir, part)

    def _run(self, name: str, data_dir: Path, part: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"{name} ({part})"))
        try:
            result = SUITES[name](data_dir, part)
        except SuiteUnavailable as error:
            self.stdout.write(self.style.WARNING(f"  not available: {error}"))
            return
        except FileNotFoundError as error:
            self.stdout.write(self.style.WARNING(f"  data missing: {error}"))
            return
        self.stdout.write(format_table(result))
        for line in result.notes:
            self.stdout.write(f"  {line}")
        self.stdout.write("")


def format_table(result: SuiteResult) -> str:
    """Return the suite's rows as text columns, names left, numbers right."""
    cells = [
        tuple(str(value) for value in row) for row in (result.columns, *result.rows)
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(result.columns))]
    lines = []
    for row in cells:
        first = row[0].ljust(widths[0])
        rest = (
            value.rjust(width) for value, width in zip(row[1:], widths[1:], strict=True)
        )
        lines.append("  " + "  ".join((first, *rest)))
    return "\n".join(lines)
