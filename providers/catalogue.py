"""The shipped catalogue of providers and models, with prices per token."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    adapter: str
    base_url: str
    needs_key: bool = True
    auth_header: str = "authorization"


@dataclass(frozen=True)
class ModelSpec:
    id: str
    kind: str
    context: int
    max_output: int
    input_per_mtok: Decimal
    output_per_mtok: Decimal

    @property
    def provider(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def upstream_name(self) -> str:
        return self.id.split("/", 1)[1]

    def cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        total = prompt_tokens * self.input_per_mtok
        total += completion_tokens * self.output_per_mtok
        return total / MILLION


@dataclass(frozen=True)
class Catalogue:
    providers: dict[str, ProviderSpec]
    models: dict[str, ModelSpec]
    bare_names: dict[str, str]


@cache
def catalogue() -> Catalogue:
    data = json.loads((Path(__file__).parent / "catalogue.json").read_text())
    providers = {
        name: ProviderSpec(name=name, **spec)
        for name, spec in data["providers"].items()
    }
    models: dict[str, ModelSpec] = {}
    bare_names: dict[str, str] = {}
    for entry in data["models"]:
        spec = ModelSpec(
            id=entry["id"],
            kind=entry["kind"],
            context=entry["context"],
            max_output=entry["max_output"],
            input_per_mtok=Decimal(entry["input_per_mtok"]),
            output_per_mtok=Decimal(entry["output_per_mtok"]),
        )
        models[spec.id] = spec
        bare_names.setdefault(spec.upstream_name, spec.id)
    return Catalogue(providers=providers, models=models, bare_names=bare_names)


def provider_spec(name: str) -> ProviderSpec | None:
    return catalogue().providers.get(name)


def split_model_name(name: str) -> tuple[str, str] | None:
    """Return (provider, upstream model) for ``provider/model`` or a known bare name."""
    if "/" in name:
        provider, _, model = name.partition("/")
        if provider in catalogue().providers and model:
            return provider, model
    full = catalogue().bare_names.get(name)
    if full is None:
        return None
    provider, _, model = full.partition("/")
    return provider, model


def model_spec(provider: str, model: str) -> ModelSpec | None:
    return catalogue().models.get(f"{provider}/{model}")
