"""The judge's scorer: the committed model file, its features, and its training script."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qa.judge import (
    SCORER_FILE,
    THRESHOLDS,
    GeneratorReader,
    Held,
    Judge,
    Judgement,
    Logistic,
    Scorer,
    anchors_shared,
    features,
)

from .conftest import ROOT, WordsEmbedding, write_jsonl

sys.path.insert(0, str(ROOT / "bench"))


def fixed_input() -> tuple[np.ndarray, np.ndarray, list[str], str]:
    # e5-like: every vector near a common direction, cosines around 0.8.
    rng = np.random.default_rng(7)
    base = rng.normal(size=384)
    query = base + 0.5 * rng.normal(size=384)
    sentences = base + np.array([[0.4], [0.6], [0.8]]) * rng.normal(size=(3, 384))
    query /= np.linalg.norm(query)
    sentences /= np.linalg.norm(sentences, axis=1, keepdims=True)
    texts = [
        "The line cost 310 million euros.",
        "Kim Jong-un travelled to Vladivostok by train.",
        "It was raining.",
    ]
    return query, sentences, texts, "How much did the Grenoble tram line cost?"


def test_the_committed_scorer_loads_and_gives_its_pinned_output() -> None:
    scorer = Scorer.load()
    assert scorer.meta["embed"] == "e5" and scorer.meta["features"] == len(scorer.weights) == 390
    assert (ROOT / "qa" / "models" / SCORER_FILE).stat().st_size < 100_000
    probabilities = scorer.score(*fixed_input())
    assert probabilities.shape == (3,)
    assert np.all((probabilities > 0) & (probabilities < 1))
    # Pinned to the committed file: refitting the scorer must update this line.
    np.testing.assert_allclose(probabilities, PINNED, rtol=1e-4)


PINNED = [0.852577, 0.0701308, 0.0351986]


def test_features_are_language_neutral_evidence_beside_the_vectors() -> None:
    query, sentences, texts, question = fixed_input()
    rows = features(query, sentences, texts, question)
    assert rows.shape == (3, 390)
    # digits the question lacks; share of its numbers repeated; share of its names.
    assert anchors_shared(question, texts[0]) == (1.0, 1.0, 0.0)
    assert anchors_shared("Combien a coûté la ligne de Grenoble ?", "Grenoble a payé 310 M€.") == (
        1.0,
        1.0,
        1.0,
    )
    assert anchors_shared("Wie viel kostet 2026 ein Ticket?", "Im Jahr 2026 kostet es.")[1] == 1.0


def test_a_judgement_answers_by_its_readers_thresholds() -> None:
    t = THRESHOLDS["scorer+generator"]
    sure = Judgement(
        (t.answerable + 0.1, t.sentence - 0.01, t.sentence), {("c1", 0): 0.4}, "scorer+generator"
    )
    unsure = Judgement((t.answerable - 0.01,), {}, "scorer+generator")
    assert sure.answerable() and sure.best == 0 and sure.accepted() == [0, 2]
    assert sure.rate("c1", 0) == 0.4 and sure.rate("c2", 0) == 0.0
    assert not unsure.answerable() and unsure.accepted() == [0]  # the best is always shown
    assert Judgement((), {}, "scorer").best is None and not Judgement((), {}, "scorer").answerable()


def test_the_training_script_runs_end_to_end_on_a_tiny_sample(tmp_path: Path) -> None:
    import train_scorer

    corpus = [
        {
            "id": "tiny-000-00",
            "lang": "en",
            "title": "Tram",
            "text": "The new tram line opened in May. It cost 310 million euros. Riders liked it.",
        },
        {
            "id": "tiny-000-01",
            "lang": "en",
            "title": "Tram",
            "text": "The mayor spoke at the opening. She thanked the workers.",
        },
        {
            "id": "tiny-002-00",
            "lang": "en",
            "title": "Storm",
            "text": "A storm hit the coast on Monday. Damage reached 1.3 billion euros.",
        },
        {
            "id": "tiny-002-01",
            "lang": "en",
            "title": "Storm",
            "text": "Insurers expect many claims. Schools closed for a day.",
        },
    ]
    questions = [
        {
            "id": "q1",
            "question": "How much did the tram line cost?",
            "lang": "en",
            "answers": ["310 million euros"],
            "positive_ids": ["tiny-000-00"],
        },
        {
            "id": "q2",
            "question": "Who spoke at the opening?",
            "lang": "en",
            "answers": ["The mayor"],
            "positive_ids": ["tiny-000-01"],
        },
        {
            "id": "q3",
            "question": "How much damage did the storm do?",
            "lang": "en",
            "answers": ["1.3 billion euros"],
            "positive_ids": ["tiny-002-00"],
        },
        {
            "id": "q4",
            "question": "Who expects many claims?",
            "lang": "en",
            "answers": ["Insurers"],
            "positive_ids": ["tiny-002-01"],
        },
    ]
    set_dir = tmp_path / "tiny"
    set_dir.mkdir()
    for name, rows in (("corpus.jsonl", corpus), ("questions.jsonl", questions)):
        write_jsonl(set_dir / name, rows)
    import random

    examples = train_scorer.set_examples(set_dir, 10, random.Random(0))
    assert examples and all(len(c) == len(m) for _, _, c, m in examples)
    embed = WordsEmbedding()

    def passages(texts: list[str]) -> list[Any]:
        return [embed.get_text_embedding(t) for t in texts]

    scorer = train_scorer.train(examples, embed.get_query_embedding, passages, {"embed": "words"})
    again = Scorer.from_dict(json.loads(json.dumps(scorer.to_dict())))
    assert again.meta["examples"] == len(examples) and again.meta["features"] == 64 + 6
    question, _, candidates, labels = examples[0]
    q = np.asarray(embed.get_query_embedding(question))
    probabilities = again.score(q, np.asarray(passages(candidates)), candidates, question)
    # Fitted on these very examples: the answering sentence comes first.
    assert labels[int(np.argmax(probabilities))] == 1


def test_the_probe_fitting_script_runs_end_to_end_on_a_tiny_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fit_probe

    rng = np.random.default_rng(3)
    direction = rng.normal(size=1536)
    rows, vectors = [], []
    for i in range(40):
        answerable = i % 4 != 0
        positive = [answerable and k == i % 3 for k in range(3)]
        for k in range(3):
            vectors.append(rng.normal(size=1536) + (2.0 if positive[k] else -1.0) * direction)
        rows.append(
            {
                "question": f"q{i}",
                "article": f"tiny-{i % 8:03d}",
                "answerable": answerable,
                "positive": positive,
                "scores": {"scorer": [0.3, 0.2, 0.1], "read": [0.5, 0.4, 0.3]},
                "hidden": [3 * i, 3 * i + 1, 3 * i + 2],
            }
        )
    (tmp_path / "tune.tiny.json").write_text(json.dumps({"rows": rows}))
    np.savez_compressed(tmp_path / "tune.tiny.npz", hidden=np.asarray(vectors, np.float16))
    out = tmp_path / "probe.json"
    argv = ["fit_probe.py", str(tmp_path), "--sets", "tiny", "--l2", "0.1", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    fit_probe.main()
    probe = Logistic.from_dict(json.loads(out.read_text()))
    assert probe.meta["passages"] == 120 and probe.meta["trained_on"] == ["tiny (tuning split)"]
    # Fitted on these very vectors: the answering direction scores high.
    high, low = probe.probabilities(np.stack([2.0 * direction, -1.0 * direction]))
    assert high > 0.9 > 0.1 > low


class _Reads(GeneratorReader):
    """A reader whose P(yes) is given: the floors are under test, not the model."""

    def __init__(self, rate: float):
        self._rate = rate

    def rate(self, question: str, texts: list[str]) -> list[float]:
        return [self._rate] * len(texts)


def test_a_quote_after_the_writer_declined_must_answer_more_surely_than_a_claim() -> None:
    # Seen in a newcomer's trial: with the writer declining, sentences the generator
    # read at 0.17-0.20 ("the tram's opening is postponed" for "how much will it cost")
    # were quoted as answers.
    t = THRESHOLDS["scorer+generator"]
    assert t.sentence < t.quote <= t.overrule
    judgement = Judgement((0.9,), {}, "scorer+generator")
    claim = [("c1", 0, "The opening is postponed.", "The opening is postponed.", "", "")]
    between = Judge(Scorer.load(), _Reads((t.sentence + t.quote) / 2))
    assert between.claims_hold(judgement, "How much?", claim) == [Held(True, True)]
    assert between.claims_hold(judgement, "How much?", claim, quoted=True) == [Held(False, True)]
    sure = Judge(Scorer.load(), _Reads(t.quote))
    assert sure.claims_hold(judgement, "How much?", claim, quoted=True) == [Held(True, True)]
