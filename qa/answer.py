"""Retrieved passages → the sentences that answer, and answers whose markers name them.

Two ways to answer, one citation rule: an extractive answer quotes the best sentences
(so what `[n]` names is in passage n by construction); a generated answer is checked
sentence by sentence by `qa.verify` and rebuilt from the verdicts. Either way a marker
can only name a retrieved passage, and its quote is a sentence of that passage.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.datelines import dateless
from qa.judge import Judge, Judgement
from qa.types import AnswerSentence, Citation, Passage, Quote
from qa.verify import Verdict, answerable_by

if TYPE_CHECKING:
    from qa.retrieve import SentenceVectors

_MIN_WORDS = 4
# Chinese and Japanese write no spaces: two of their characters count as a word.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SAME = 0.97  # cosine above which two sentences say the same (a headline and its repeat)


@dataclass(frozen=True)
class Scored:
    passage: Passage
    quote: Quote
    score: float
    floor: float
    vector: np.ndarray
    rank: int = 0  # of its passage in the retrieved list, 0 first


class SentenceCache:
    """Passage-side vectors of sentences, cached: follow-ups reuse the same passages.
    Called with texts, their vectors; `embed` makes those it does not hold."""

    def __init__(self, embed: Callable[[list[str]], Sequence[Any]], size: int):
        self._embed = embed
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def prefill(self, passages: list[Passage], stored: SentenceVectors) -> None:
        """Take the sentence vectors the index already holds instead of embedding again."""
        for p in passages:
            for q in p.sentence_texts():
                vector = stored.get((p.chunk_id, q.start, q.end))
                if vector is not None:
                    self._vectors[" ".join(q.text.split())] = np.asarray(vector, np.float32)

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        for text, vector in zip(missing, self._embed(missing), strict=True):
            self._vectors[text] = np.asarray(vector, dtype=np.float32)
            if len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        for t in texts:
            self._vectors.move_to_end(t)
        return np.stack([self._vectors[t] for t in texts])


def score_sentences(
    query: np.ndarray,
    passages: list[Passage],
    embed: Callable[[list[str]], np.ndarray],
    floor: Callable[[Passage], float],
) -> list[Scored]:
    """Sentences of the passages that clear `floor(passage)`, best match first."""
    candidates = [
        (p, q, floor(p), rank)
        for rank, p in enumerate(passages)
        if p.score >= floor(p)
        for q in p.sentence_texts()
        # A dateline ("SEVILLA, 22 de julio de 2026.") is no sentence to quote.
        if len(dateless(q.text, p.lang).split()) + len(_CJK.findall(q.text)) // 2 >= _MIN_WORDS
    ]
    if not candidates:
        return []
    vectors = embed([" ".join(q.text.split()) for _, q, _, _ in candidates])
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")
    return [
        Scored(p, q, float(scores[i]), f, vectors[i], rank)
        for i in order
        for p, q, f, rank in [candidates[i]]
    ]


def select_sentences(scored: list[Scored], limit: int) -> list[Scored]:
    """The sentences an extractive answer quotes, most relevant first.

    Each must clear its passage's floor and be close to the best one: within a quarter
    of the room between the floor and 1, a margin that follows the model's cosine scale.
    Repeats (a headline and its echo in the body) are quoted once.
    """
    if not scored:
        return []
    best = scored[0]
    lowest = best.score - (1.0 - best.floor) / 4
    chosen: list[Scored] = []
    for s in scored:
        if len(chosen) == limit or s.score < lowest:
            break
        if s.score < s.floor or any(float(s.vector @ c.vector) > _SAME for c in chosen):
            continue
        chosen.append(s)
    return chosen


# When the model declines, a sentence this far (a share of the room between the floor
# and 1) above the floor answers anyway, quoted. On 100 + 20 XQuAD en→es questions, 74% of
# the answerable ones clear it and 10% of the unanswerable (docs/benchmarks.md, "Answers").
_CONFIDENT = 0.2


def confident_sentence(
    scored: list[Scored], question: str = "", lang: str | None = None
) -> Scored | None:
    """The sentence quoted when a generator declines, or None: qa abstains.

    Only one (the runners-up are less often right), and it must match the question
    closely. Of such sentences, the one in the passage retrieval ranked highest: the
    fused ranking finds the answering passage more often than one sentence's cosine
    does (on squad_dev_en, 3 of 5 wrong quotes came from the second passage while the
    first answered). It must answer as verification asks a source to: a number to a
    question after a count or a year, and in the question's language (`lang`), a passage
    naming everything the question names.
    """
    can_answer = answerable_by(question, lang)
    confident = [
        s
        for s in scored
        if s.score >= s.floor + _CONFIDENT * (1.0 - s.floor) and can_answer(s.passage, s.quote.text)
    ]
    # `scored` is best first, and min() keeps the first of equals.
    return min(confident, key=lambda s: s.rank) if confident else None


def shown_passages(
    scored: list[Scored], budget: int, first: Passage | None = None
) -> list[tuple[Passage, list[Quote]]]:
    """What a generator is shown: the `budget` best sentences, grouped by passage; and
    when a passage must come `first` (the newest on the subject of a question after the
    latest news), its best sentences up to half the budget whatever their scores: the
    newest article, in another language than the question, scores below older ones.

    Passages keep their retrieval order (verification prefers the first of passages
    that support a claim equally) and sentences their reading order, so the prompt
    reads like the articles; trimming keeps the prompt, and the wait for the first
    token, short.
    """
    own = [s for s in scored if first is not None and s.passage.chunk_id == first.chunk_id]
    own = own[: max(1, budget // 2)]
    # By identity: a Scored holds a vector, which `==` cannot compare.
    others = [s for s in scored if not any(s is o for o in own)]
    best = own + others[: budget - len(own)]
    order: dict[str, tuple[Passage, list[Quote]]] = {}
    for s in sorted(best, key=lambda s: s.rank):
        order.setdefault(s.passage.chunk_id, (s.passage, []))[1].append(s.quote)
    return [(p, sorted(quotes, key=lambda q: q.start)) for p, quotes in order.values()]


def _citation(p: Passage, n: int, quotes: list[Quote]) -> Citation:
    fields = {f: getattr(p, f) for f in Passage.__dataclass_fields__}
    unique = {q.start: q for q in quotes}
    return Citation(**fields, n=n, quotes=tuple(sorted(unique.values(), key=lambda q: q.start)))


def _assemble(
    items: list[tuple[str, Passage | None, Quote | None, str, float]],
) -> tuple[str, tuple[Citation, ...], tuple[AnswerSentence, ...]]:
    """Text with a marker after each kept sentence, citations numbered by first use."""
    numbers: dict[str, int] = {}
    passages: dict[str, Passage] = {}
    quotes: dict[str, list[Quote]] = {}
    parts: list[str] = []
    sentences: list[AnswerSentence] = []
    for text, passage, quote, status, support in items:
        if passage is None or quote is None:
            sentences.append(AnswerSentence(text, None, status, round(support, 4), None, None))
            continue
        cid = passage.chunk_id
        n = numbers.setdefault(cid, len(numbers) + 1)
        passages[cid] = passage
        quotes.setdefault(cid, []).append(quote)
        parts.append(f"{text} [{n}]")
        sentences.append(AnswerSentence(text, n, status, round(support, 4), quote, passage.lang))
    citations = tuple(_citation(passages[cid], n, quotes[cid]) for cid, n in numbers.items())
    return " ".join(parts), citations, tuple(sentences)


def cite_extract(
    selected: list[Scored],
) -> tuple[str, tuple[Citation, ...], tuple[AnswerSentence, ...]]:
    """An extractive answer: each quoted sentence followed by its passage's number."""
    return _assemble(
        [(" ".join(s.quote.text.split()), s.passage, s.quote, "quoted", s.score) for s in selected]
    )


def cite_verified(
    verdicts: list[Verdict], shown: list[tuple[Passage, list[Quote]]]
) -> tuple[str, tuple[Citation, ...], tuple[AnswerSentence, ...]]:
    """A generated answer rebuilt from its verdicts: unsupported sentences are dropped."""
    return _assemble(
        [
            (
                v.claim.text,
                shown[v.passage][0] if v.passage is not None else None,
                v.quote,
                v.status,
                v.support,
            )
            for v in verdicts
        ]
    )


def judge_passages(
    judge: Judge,
    question: str,
    query: np.ndarray,
    scored: list[Scored],
    shown: list[tuple[Passage, list[Quote]]],
) -> Judgement:
    """The judge's reading of the shown passages, and the scorer's of every sentence."""
    return judge.judge(
        question,
        query,
        [
            (s.passage.chunk_id, s.quote.start, " ".join(s.quote.text.split()), s.vector)
            for s in scored
        ],  # fmt: skip
        [(p.chunk_id, [(q.start, q.text) for q in quotes]) for p, quotes in shown],
    )


def _rate(judgement: Judgement, s: Scored) -> float:
    return judgement.rate(s.passage.chunk_id, s.quote.start)


def judged_quotes(scored: list[Scored], judgement: Judgement, limit: int) -> list[Scored]:
    """The sentences an extractive answer quotes: those the scorer finds answer the
    question, best first, repeats left out. Each must answer on its own (a quote is a
    claim), and come close to the best one."""
    ranked = sorted(scored, key=lambda s: -_rate(judgement, s))
    if not ranked:
        return []
    floor = max(judgement.thresholds.answerable, _rate(judgement, ranked[0]) / 2)
    home = ranked[0].passage.chunk_id
    chosen: list[Scored] = []
    for s in ranked:
        if len(chosen) == limit or _rate(judgement, s) < floor:
            break
        if s.passage.chunk_id != home or any(float(s.vector @ c.vector) > _SAME for c in chosen):
            continue
        chosen.append(s)
    return chosen


def judged_best(
    scored: list[Scored], shown: list[tuple[Passage, list[Quote]]], judgement: Judgement
) -> Scored | None:
    """The sentence quoted when a generator declines: of the passage the judge finds
    answers best, if it is sure enough to overrule the writer, the sentence the scorer
    rates highest (its closest on a tie), not its headline: the headline is on the
    subject of any question about it, and the citation shows it anyway (a newcomer's "why
    are cruise ships banned at night" got the article's heading)."""
    if judgement.best is None or judgement.confidence < judgement.thresholds.overrule:
        return None
    chosen = shown[judgement.best][0].chunk_id
    own = [
        s for s in scored if s.passage.chunk_id == chosen and not is_headline(s.quote, s.passage)
    ]
    return max(own, key=lambda s: _rate(judgement, s)) if own else None


def is_headline(quote: Quote, passage: Passage) -> bool:
    """Whether `quote` is its article's title, repeated in the text."""
    words = re.findall(r"\w+", quote.text.casefold())
    return bool(words) and words == re.findall(r"\w+", passage.title.casefold())
