"""What a question asks for besides its subject: the latest turn of a story.

Two readings, either of which is enough. Words (`qa.language.asks_for_latest`: "latest",
"où en est", "a che punto" in 23 languages), sure where they exist. And, for a model
with a fitted reader (`qa/models/intent-<model>.json`, by bench/train_intent.py), the
question's vector: a logistic model, fitted on questions asking after the news in about
45 languages against questions asking for facts (many with "now", "new" or "current" in
them), reads any language the embedding model reads. A model without one reads words only.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from importlib import resources

import numpy as np

from qa.embeddings import EmbeddingModel
from qa.language import asks_for_latest


@functools.cache
def _reader(model: str) -> tuple[np.ndarray, float, float] | None:
    """(weights, bias, threshold) of `model`'s fitted reader, or None."""
    path = resources.files("qa").joinpath("models", f"intent-{model}.json")
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return np.asarray(data["weights"], dtype=np.float32), data["bias"], data["threshold"]


def news_score(model: EmbeddingModel, vector: Sequence[float]) -> float | None:
    """How strongly the question's `vector` reads as asking after the news, above 0 when
    the fitted reader takes it so; None for a model without a reader."""
    reader = _reader(model.name)
    if reader is None:
        return None
    weights, bias, threshold = reader
    return float(weights @ np.asarray(vector, dtype=np.float32) + bias - threshold)


def asks_after_news(
    question: str, lang: str, model: EmbeddingModel, vector: Sequence[float]
) -> bool:
    """Whether `question` asks for the latest news on its subject."""
    if asks_for_latest(question, lang):
        return True
    score = news_score(model, vector)
    return score is not None and score > 0
