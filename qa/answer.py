"""Retrieved passages → an extractive answer whose every sentence carries its citation.

The answer is made only of sentences quoted from the retrieved passages, so a marker
`[n]` can only name a passage that was retrieved, and what it quotes is in that passage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qa.types import Citation, Passage, Quote

_MIN_WORDS = 4
_SAME = 0.97  # cosine above which two sentences say the same (a headline and its repeat)


@dataclass(frozen=True)
class Scored:
    passage: Passage
    quote: Quote
    score: float


def select_sentences(
    query: np.ndarray,
    passages: list[Passage],
    embed: Callable[[list[str]], list[list[float]]],
    floor: Callable[[Passage], float],
    limit: int,
) -> list[Scored]:
    """The sentences of `passages` that best answer `query`, most relevant first.

    A passage, and each sentence quoted from it, must clear `floor(passage)`: the
    model's relevance floor for that passage's language. A sentence must also be
    close to the best one: within a quarter of the room between the floor and 1, a
    margin that follows the model's cosine scale.
    """
    candidates = [
        (p, q, floor(p))
        for p in passages
        if p.score >= floor(p)
        for q in p.sentence_texts()
        if len(q.text.split()) >= _MIN_WORDS
    ]
    if not candidates:
        return []
    vectors = np.asarray(
        embed([" ".join(q.text.split()) for _, q, _ in candidates]), dtype=np.float32
    )
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")
    best = int(order[0])
    margin = (1.0 - candidates[best][2]) / 4
    chosen: list[int] = []
    for i in order:
        if len(chosen) == limit or scores[i] < scores[best] - margin:
            break
        if scores[i] < candidates[i][2]:
            continue
        if any(float(vectors[i] @ vectors[j]) > _SAME for j in chosen):
            continue
        chosen.append(int(i))
    return [Scored(candidates[i][0], candidates[i][1], float(scores[i])) for i in chosen]


def cite(selected: list[Scored]) -> tuple[str, tuple[Citation, ...]]:
    """Answer text with a `[n]` after each sentence, and the numbered sources it names."""
    numbers: dict[str, int] = {}
    quotes: dict[str, list[Quote]] = {}
    by_chunk: dict[str, Passage] = {}
    parts = []
    for s in selected:
        cid = s.passage.chunk_id
        n = numbers.setdefault(cid, len(numbers) + 1)
        by_chunk[cid] = s.passage
        quotes.setdefault(cid, []).append(s.quote)
        parts.append(f"{' '.join(s.quote.text.split())} [{n}]")
    citations = tuple(
        Citation(
            **{f: getattr(by_chunk[cid], f) for f in Passage.__dataclass_fields__},
            n=n,
            quotes=tuple(sorted(quotes[cid], key=lambda q: q.start)),
        )
        for cid, n in numbers.items()
    )
    return " ".join(parts), citations
