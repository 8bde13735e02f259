"""Fit the shipped jailbreak model on the tune part of the labelled prompts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guardrails import jailbreak_model
from guardrails.evaluation import train


class Command(BaseCommand):
    help = (
        "Fit the jailbreak model on the tune part of prompts/prompts.jsonl and "
        "write it (by default over the model shipped in the guardrails app)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True, type=Path, help="data folder")
        parser.add_argument("--out", type=Path, default=jailbreak_model.MODEL_PATH)
        parser.add_argument("--folds", type=int, default=train.FOLDS)
        parser.add_argument("--max-benign", type=float, default=train.MAX_BENIGN)
        parser.add_argument("--max-roleplay", type=float, default=train.MAX_ROLEPLAY)

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir: Path = options["data"]
        if not data_dir.is_dir():
            raise CommandError(f"no data folder at {data_dir}")
        if options["folds"] < 2:
            raise CommandError("--folds must be 2 or more")
        fitted = train.train(
            data_dir,
            folds=options["folds"],
            max_benign=options["max_benign"],
            max_roleplay=options["max_roleplay"],
        )
        settings = {
            "rows": fitted.rows,
            "part": "tune",
            "folds": options["folds"],
            "max_benign": options["max_benign"],
            "max_roleplay": options["max_roleplay"],
            "epochs": jailbreak_model.EPOCHS,
            "learning_rate": jailbreak_model.LEARNING_RATE,
            "l2": jailbreak_model.L2,
            "min_documents": jailbreak_model.MIN_DOCUMENTS,
            "seed": jailbreak_model.SEED,
        }
        options["out"].write_text(fitted.model.to_json(settings), encoding="utf-8")
        self.stdout.write(
            f"fitted on {fitted.rows} tune rows, {len(fitted.model.weights)} "
            f"features; cross-validated with the rules at decision point "
            f"{fitted.threshold:.3f}: attack recall {fitted.recall:.3f}, benign "
            f"{fitted.benign_rate:.3f}, role-play {fitted.roleplay_rate:.3f}"
        )
        self.stdout.write(f"written to {options['out']}")
