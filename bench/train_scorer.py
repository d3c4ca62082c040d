"""Fit the judge's scorer (qa/models/scorer-e5.json) on public question-answering data.

    python bench/train_scorer.py ../shared/eval/piaf_fr ../shared/eval/squad_dev_en \
        ../shared/eval/xquad_en-es ../shared/eval/xquad_en-de [--squad2 train-v2.0.json] \
        [--per-set 600] [--out qa/models/scorer-e5.json]

Examples are (question, candidate sentence, does it answer) triples, made the way the
answer path meets them: the candidates of a question are the sentences of its passage
and of the article's neighbouring passages (same topic, same names: the distractors
cosine cannot tell apart). A sentence answers when it holds a gold answer string. One
question in three also appears with its own passage left out, so the scorer learns what
a question no candidate answers looks like. SQuAD 2.0 (`--squad2`, its train file)
adds questions written to be unanswerable from their paragraph, with plausible answers.

Data and licences: the sets of ../shared/eval (PIAF: MIT; SQuAD 1.1 and XQuAD:
CC BY-SA 4.0; their manifest.json gives sources and commits), SQuAD 2.0 train
(CC BY-SA 4.0, rajpurkar.github.io/SQuAD-explorer). Nothing of them is committed.

Only the tuning split is read: articles whose number is even (`split_of`). The
benchmarks report on the odd ones, so no reported figure comes from fitted data.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT, article_of, corpus_lines, questions, split_of

from qa.chunking import split_sentences
from qa.judge import Scorer, features

VERSION = 1


def fold(text: str) -> str:
    return " ".join(text.lower().split())


def sentences_of(text: str, lang: str) -> list[str]:
    return [" ".join(text[s:e].split()) for s, e in split_sentences(text, lang)]


def holds(sentence: str, golds: list[str]) -> bool:
    return any(fold(g) in fold(sentence) for g in golds if g.strip())


Example = tuple[str, str, list[str], list[int]]  # question, its language, candidates, labels


def set_examples(set_dir: Path, per_set: int, rng: random.Random) -> list[Example]:
    corpus = {c["id"]: c for c in map(json.loads, corpus_lines(set_dir))}
    by_article: dict[str, list[str]] = defaultdict(list)
    for pid in corpus:
        by_article[article_of(pid)].append(pid)
    pool = [
        q
        for q in questions(set_dir)
        if q["positive_ids"]
        and q["positive_ids"][0] in corpus
        and split_of(q["positive_ids"][0]) == "tune"
    ]
    rng.shuffle(pool)
    examples: list[Example] = []
    for i, q in enumerate(pool[:per_set]):
        pid = q["positive_ids"][0]
        passage = corpus[pid]
        golds = list(q.get("answers_passage_lang") or q.get("answers") or [])
        own = sentences_of(passage["text"], passage["lang"])
        if not any(holds(s, golds) for s in own):
            continue
        siblings = sorted(by_article[article_of(pid)])
        at = siblings.index(pid)
        near = [p for p in siblings[max(0, at - 2) : at + 3] if p != pid][:3]
        others = [s for p in near for s in sentences_of(corpus[p]["text"], corpus[p]["lang"])]
        left_out = i % 3 == 2
        candidates = others if left_out else own + others
        if not candidates:
            continue
        labels = [int(holds(s, golds)) for s in candidates]
        examples.append((q["question"], q.get("lang", "en"), candidates, labels))
    return examples


def squad2_examples(path: Path, limit: int, rng: random.Random) -> list[Example]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    examples: list[Example] = []
    for article in data:
        for para in article["paragraphs"]:
            context = para["context"]
            spans = split_sentences(context, "en")
            candidates = [" ".join(context[s:e].split()) for s, e in spans]
            for qa in para["qas"]:
                starts = {a["answer_start"] for a in qa.get("answers", [])}
                labels = [
                    int(not qa.get("is_impossible") and any(s <= a < e for a in starts))
                    for s, e in spans
                ]
                if qa.get("is_impossible") or any(labels):
                    examples.append((qa["question"], "en", candidates, labels))
    rng.shuffle(examples)
    return examples[:limit]


def build_rows(
    examples: list[Example],
    query: Callable[[str], list[float]],
    passages: Callable[[list[str]], list[list[float]]],
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, labels and the example each row belongs to."""
    cache: dict[str, np.ndarray] = {}
    rows, labels, groups = [], [], []
    for n, (question, _, candidates, marks) in enumerate(examples):
        missing = list(dict.fromkeys(c for c in candidates if c not in cache))
        for text, vec in zip(missing, passages(missing), strict=True):
            cache[text] = np.asarray(vec, dtype=np.float32)
        q = np.asarray(query(question), dtype=np.float32)
        vecs = np.stack([cache[c] for c in candidates])
        rows.append(features(q, vecs, candidates, question))
        labels += marks
        groups += [n] * len(candidates)
        if on_progress and n % 50 == 0:
            on_progress(n, len(examples))
    return np.vstack(rows), np.asarray(labels, dtype=np.float64), np.asarray(groups)


def fit(
    x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 600, lr: float = 0.05
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """L2-regularised logistic regression by full-batch Adam on standardised features."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    w = np.zeros(z.shape[1])
    b = 0.0
    m = np.zeros(z.shape[1] + 1)
    v = np.zeros(z.shape[1] + 1)
    for t in range(1, steps + 1):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        grad = np.append(z.T @ (p - y) / len(y) + l2 * w, float(np.mean(p - y)))
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        step = lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        w -= step[:-1]
        b -= float(step[-1])
    return w, b, mean, scale


def train(
    examples: list[Example],
    query: Callable[[str], list[float]],
    passages: Callable[[list[str]], list[list[float]]],
    meta: dict[str, Any],
    on_progress: Callable[[int, int], None] | None = None,
) -> Scorer:
    x, y, _ = build_rows(examples, query, passages, on_progress)
    w, b, mean, scale = fit(x, y)
    meta = {
        **meta,
        "version": VERSION,
        "examples": len(examples),
        "rows": len(y),
        "positives": int(y.sum()),
        "features": int(x.shape[1]),
    }
    return Scorer(w, b, mean, scale, meta)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("sets", type=Path, nargs="+")
    ap.add_argument("--squad2", type=Path, default=None, help="SQuAD 2.0 train-v2.0.json")
    ap.add_argument("--squad2-questions", type=int, default=3000)
    ap.add_argument("--per-set", type=int, default=600)
    ap.add_argument("--out", type=Path, default=ROOT / "qa" / "models" / "scorer-e5.json")
    args = ap.parse_args()

    from qa.embeddings import load_embedding

    rng = random.Random(0)
    examples: list[Example] = []
    sources = []
    for set_dir in args.sets:
        found = set_examples(set_dir, args.per_set, rng)
        print(f"{set_dir.name}: {len(found)} questions (tuning split)", flush=True)
        examples += found
        sources.append(f"{set_dir.name} (even articles, {len(found)} questions)")
    if args.squad2:
        found = squad2_examples(args.squad2, args.squad2_questions, rng)
        print(f"{args.squad2.name}: {len(found)} questions", flush=True)
        examples += found
        sources.append(f"SQuAD 2.0 train ({len(found)} questions)")
    model = load_embedding("e5")
    started = time.perf_counter()
    scorer = train(
        examples,
        model.query,
        model.passages,
        {"embed": "e5", "trained_on": sources, "date": time.strftime("%Y-%m-%d")},
        lambda n, total: print(
            f"  {n}/{total} ({time.perf_counter() - started:.0f} s)", flush=True
        ),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(scorer.to_dict()) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {scorer.meta}")


if __name__ == "__main__":
    main()
