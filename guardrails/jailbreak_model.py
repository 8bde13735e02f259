"""A small linear model of jailbreak prompts, shipped with the code.

The phrase rules in ``guardrails.jailbreak`` catch what attacks say ("ignore
your instructions", "developer mode"); many jailbreaks found in the wild say
none of it and build a persona or a game instead. This model scores how much
a text reads like those prompts: logistic regression over the words and word
pairs it contains, fitted by ``manage.py guardrails_train_jailbreak`` on the
tune part of the labelled prompts (see ``guardrails/EVAL.md``). Its weights
are a JSON file in this package, so nothing is downloaded and no library is
needed to run it.

It is the default ``GUARDRAILS_JAILBREAK_CLASSIFIER``. It answers only for
the user's own text: an operator's system prompt commonly sets a persona, and
tool results and documents are judged strictly by the rules already.

A long text is read in chunks of ``chunk_tokens`` words and scores as its
most suspicious chunk, so the cost grows linearly with the text.
"""

from __future__ import annotations

import functools
import json
import math
import random
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

from guardrails.jailbreak import ATTACK

MODEL_PATH = Path(__file__).with_name("jailbreak_model.json")
TOKEN = re.compile(r"[^\W_]+")  # words; an underscore separates them
CHUNK_TOKENS = 1000
# A short text's few words would each weigh a lot: scores are scaled as if
# every text had at least this many features, so "forget everything you know
# about bread" is not judged on "forget everything" alone.
MIN_FEATURES = 60
# How the fit runs; recorded in the model file so a fit can be repeated.
EPOCHS = 20
LEARNING_RATE = 0.5
L2 = 1e-4
MIN_DOCUMENTS = 2
SEED = 0


def chunks(text: str, size: int = CHUNK_TOKENS) -> Iterator[list[str]]:
    """Yield the lowercased words of ``text``, ``size`` at a time."""
    tokens = TOKEN.findall(text.lower())
    for start in range(0, max(len(tokens), 1), size):
        yield tokens[start : start + size]


def features(tokens: Sequence[str]) -> set[str]:
    """Return the words of ``tokens`` and each pair of neighbouring words."""
    found = set(tokens)
    found.update(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
    return found


@dataclass(frozen=True)
class Model:
    bias: float
    weights: Mapping[str, float]
    # Subtracted from the logit so the chosen decision point scores 0.5.
    shift: float = 0.0
    chunk_tokens: int = CHUNK_TOKENS
    min_features: int = MIN_FEATURES
    _words: dict[str, float] = field(init=False, repr=False, compare=False)
    _pairs: dict[tuple[str, str], float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Word pairs keyed as tuples: zip makes them without building strings.
        words, pairs = {}, {}
        for feature, weight in self.weights.items():
            first, _, second = feature.partition(" ")
            if second:
                pairs[(first, second)] = weight
            else:
                words[first] = weight
        object.__setattr__(self, "_words", words)
        object.__setattr__(self, "_pairs", pairs)

    def probability(self, text: str) -> float:
        """Return the model's score for ``text``, from 0 to 1."""
        best = -math.inf
        for tokens in chunks(text, self.chunk_tokens):
            if tokens:
                best = max(best, self._chunk_score(tokens))
        if best == -math.inf:
            return 0.0
        return _sigmoid(self.bias + best - self.shift)

    def _chunk_score(self, tokens: list[str]) -> float:
        # The same sum as over ``features(tokens)``, several times faster.
        words = set(tokens)
        pairs = set(zip(tokens, tokens[1:], strict=False))
        # fsum: the sets' order follows the hash seed, and a plain sum would
        # differ in its last bits from one process to the next.
        total = math.fsum(map(self._words.get, words, repeat(0.0)))
        total += math.fsum(map(self._pairs.get, pairs, repeat(0.0)))
        return total / math.sqrt(max(len(words) + len(pairs), self.min_features))

    def to_json(self, settings: Mapping[str, object]) -> str:
        body = {
            "kind": "warden-jailbreak-linear",
            "version": 1,
            "fit": dict(settings),
            "bias": round(self.bias, 6),
            "shift": round(self.shift, 6),
            "chunk_tokens": self.chunk_tokens,
            "min_features": self.min_features,
            "weights": {k: round(v, 5) for k, v in sorted(self.weights.items())},
        }
        return json.dumps(body, ensure_ascii=False, indent=0, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Model:
        body = json.loads(text)
        if body.get("kind") != "warden-jailbreak-linear" or body.get("version") != 1:
            raise ValueError("not a Warden jailbreak model file")
        return cls(
            float(body["bias"]),
            {str(k): float(v) for k, v in body["weights"].items()},
            float(body["shift"]),
            int(body["chunk_tokens"]),
            int(body["min_features"]),
        )


class LinearModel:
    """The shipped model as a ``guardrails.jailbreak.Classifier``."""

    def __init__(self) -> None:
        self.model = load()

    def scores(self, text: str, *, source: str) -> Mapping[str, float]:
        if source != "user":
            return {}
        return {ATTACK: self.model.probability(text)}


@functools.cache
def load(path: Path = MODEL_PATH) -> Model:
    return Model.from_json(path.read_text(encoding="utf-8"))


# Fitting -------------------------------------------------------------------


def examples(texts: Sequence[str], chunk_tokens: int = CHUNK_TOKENS) -> list[set[str]]:
    """Return the features of each text's first chunk, as the model reads it."""
    return [features(next(chunks(text, chunk_tokens))) for text in texts]


def fit(
    found: Sequence[set[str]],
    labels: Sequence[int],
    *,
    epochs: int = EPOCHS,
    learning_rate: float = LEARNING_RATE,
    l2: float = L2,
    min_documents: int = MIN_DOCUMENTS,
    seed: int = SEED,
) -> Model:
    """Fit logistic regression (Adagrad, L2) to feature sets and 0/1 labels.

    Features seen in fewer than ``min_documents`` texts are left out, so the
    model cannot learn a word that only one training prompt used. The same
    inputs and seed give the same model.
    """
    counts = Counter(feature for features_ in found for feature in features_)
    vocabulary = {f for f, n in counts.items() if n >= min_documents}
    rows = [
        (
            sorted(f for f in features_ if f in vocabulary),
            1 / math.sqrt(max(len(features_), MIN_FEATURES)),
        )
        for features_ in found
    ]
    weights: dict[str, float] = dict.fromkeys(sorted(vocabulary), 0.0)
    squares: dict[str, float] = dict.fromkeys(weights, 1e-8)
    bias, bias_square = 0.0, 1e-8
    order = list(range(len(rows)))
    shuffle = random.Random(seed).shuffle
    for _ in range(epochs):
        shuffle(order)
        for index in order:
            present, scale = rows[index]
            z = bias + scale * sum(weights[f] for f in present)
            error = _sigmoid(z) - labels[index]
            bias_square += error * error
            bias -= learning_rate * error / math.sqrt(bias_square)
            for feature in present:
                gradient = error * scale + l2 * weights[feature]
                squares[feature] += gradient * gradient
                weights[feature] -= (
                    learning_rate * gradient / math.sqrt(squares[feature])
                )
    kept = {f: w for f, w in weights.items() if abs(w) >= 1e-4}
    return Model(bias, kept)


def _sigmoid(z: float) -> float:
    if z < -40:
        return 0.0
    return 1 / (1 + math.exp(-z))


def logit(p: float) -> float:
    return math.log(p / (1 - p))
