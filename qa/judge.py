"""The judge: whether the retrieved passages answer the question, and which do.

Embedding cosine says "same topic"; it cannot say "this passage answers that
question". The judge says it with a probability, from two readers:

- `Scorer`, a logistic model over what qa computes anyway for each candidate sentence
  (the e5 vectors of question and sentence, their cosine against the best candidate's,
  numbers and names in common), fitted on public question-answering data by
  `bench/train_scorer.py`. It reads every candidate in well under a millisecond and
  needs no generator: extractive answers and remote backends rely on it alone.
- `GeneratorReader`, the local generator asked of one text at a time "does this passage
  answer the question? yes or no", read as P(yes). It costs a short prompt per text, so
  it reads the `GENERATOR_READS` passages retrieval ranked first before an answer is
  written, and afterwards the one source sentence of each claim.

With the generator, a passage's probability is the mean of the two readers' where the
generator read it, half the scorer's elsewhere; without it, the scorer's. (Measured
beside the generator asked once with all passages numbered, asked of each sentence,
and each reader alone: docs/benchmarks.md, "The judge".) The thresholds are in
`THRESHOLDS`, chosen on the tuning split.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Self

import numpy as np

from qa.language import first_word

_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"\b[^\W\d_][\w'’-]{2,}")
SCORER_FILE = "scorer-e5.json"
GENERATOR_READS = 3


@dataclass(frozen=True)
class Thresholds:
    """Probabilities the judge's verdicts are compared with.

    `answerable`: qa answers when its best passage reaches it, and abstains below.
    `sentence`: the sentence a claim rests on (or a quote) must reach it: a sentence
    that answers nothing (an instruction planted in an article, a side remark) does not
    become an answer by sitting in a passage that does; and a passage below it is not
    shown to the generator. `states`: the probability that the source says what the
    claim says, about the same thing ("the ticket costs 310 million" does not follow
    from "the works cost 310 million"), read by the generator only. `overrule`: when
    the writer declines to answer, qa quotes a sentence only if the judge's best passage
    reaches it: the writer's refusal is evidence too; and `quote`, the sentence quoted
    then must reach it, for the same reason.
    """

    answerable: float
    sentence: float
    states: float = 0.0
    overrule: float = 1.0
    quote: float = 0.0


# Chosen on the tuning split (even-numbered articles of xquad_en-es, piaf_fr and SQuAD
# 2.0 dev's second half), the three pooled: `answerable`, the highest abstention with
# false abstention at most 0.05, leaving room for the answers the path after it loses;
# `overrule`, the point where false abstention reaches 0.10; `sentence`, the
# generator's, loses no more than 6% of the answering passages' best sentences. The
# scorer's `sentence` only stops what it finds plainly off the question: it is a weak
# reader of single sentences. `states` has no labelled data in the sets: on the 19
# hand-made pairs of bench/claims.py (four languages), the sentence under its headline,
# right claims 0.43-0.97, wrong ones 0.04-0.73; 0.75 keeps 7 of 9 right, no wrong one
# (the sentence alone, at 0.6: 5 of 9, and one wrong). `quote` (piaf_fr's tuning split,
# 2026-11-30): the generator read the sentences quoted after the writer declined at
# 0.28-0.65 where they gave the answer (7), 0.25-0.71 where not (10); 0.25 loses none
# of the right ones. (A newcomer's wrong quotes, across languages: 0.17-0.20.)
THRESHOLDS = {
    "scorer": Thresholds(answerable=0.175, sentence=0.03, overrule=0.2, quote=0.03),
    "scorer+generator": Thresholds(
        answerable=0.25, sentence=0.15, states=0.75, overrule=0.3, quote=0.25
    ),
}


@dataclass(frozen=True)
class Held:
    """A claim read by the judge: whether its source sentence answers the question, and
    whether that sentence says what the claim says. It holds when both do."""

    answers: bool
    states: bool

    @property
    def holds(self) -> bool:
        return self.answers and self.states


@dataclass(frozen=True)
class Judgement:
    """The judge's reading of the passages shown to it.

    `passages[i]`: the probability that shown passage i answers the question;
    `sentences`: the scorer's probability per candidate sentence, by (chunk id, start);
    `readers`: "scorer" or "scorer+generator", whose thresholds apply.
    """

    passages: tuple[float, ...]
    sentences: dict[tuple[str, int], float]
    readers: str

    @property
    def thresholds(self) -> Thresholds:
        return THRESHOLDS[self.readers]

    @property
    def best(self) -> int | None:
        return int(np.argmax(self.passages)) if self.passages else None

    @property
    def confidence(self) -> float:
        return max(self.passages, default=0.0)

    def answerable(self) -> bool:
        return self.confidence >= self.thresholds.answerable

    def accepted(self) -> list[int]:
        """The passages worth showing the generator, best first: the best one, and the
        others the judge does not rule out."""
        order = sorted(range(len(self.passages)), key=lambda i: -self.passages[i])
        kept = [i for i in order if self.passages[i] >= self.thresholds.sentence]
        return kept or order[:1]

    def rate(self, chunk_id: str, start: int) -> float:
        return self.sentences.get((chunk_id, start), 0.0)


class GeneratorReader:
    """The local generator asked, for one text at a time, "does this passage answer the
    question? yes or no", read as P(yes) against P(no): an absolute judgement (asked
    instead which of several numbered passages answers, it only ranks them, and worse:
    docs/benchmarks.md). The question comes before the text, so llama.cpp reads the
    shared prefix once per question.
    """

    @staticmethod
    def supports(llm: Any) -> bool:
        """Whether `llm` gives its next token's probabilities: the local model does (either
        runtime), remote ones not."""
        return _llama(llm) is not None or callable(getattr(llm, "next_token", None))

    def __init__(self, llm: Any, system: str, template: Callable[[str, str], str]):
        self._llm = llm
        self._llama = _llama(llm)
        self._system = system
        self._template = template
        if self._llama is not None:
            self._yes = [_single(self._llama, t) for t in _YES]
            self._no = [_single(self._llama, t) for t in _NO]

    def messages(self, question: str, text: str) -> list[Any]:
        from llama_index.core.llms import ChatMessage

        return [
            ChatMessage(role="system", content=self._system),
            ChatMessage(role="user", content=self._template(question, text)),
        ]

    def rate(self, question: str, texts: list[str]) -> list[float]:
        rates = []
        for text in texts:
            messages = self.messages(question, text)
            if self._llama is None:  # xllamacpp: the likeliest first tokens
                top = self._llm.next_token(messages)
                yes = np.log(sum(top.get(t, 0.0) for t in _YES) or 1e-12)
                no = np.log(sum(top.get(t, 0.0) for t in _NO) or 1e-12)
            else:
                logits = _next_logits(self._llama, str(self._llm.messages_to_prompt(messages)))
                yes = np.logaddexp.reduce(logits[self._yes])
                no = np.logaddexp.reduce(logits[self._no])
            rates.append(float(1.0 / (1.0 + np.exp(no - yes))))
        return rates


class Judge:
    """The scorer over every candidate sentence, and the generator (when it is the local
    model) over the first passages and over each claim's source sentence."""

    def __init__(
        self,
        scorer: Scorer,
        reader: GeneratorReader | None = None,
        checker: GeneratorReader | None = None,
    ):
        self.scorer = scorer
        self.reader = reader
        self.checker = checker

    @classmethod
    def reading_with(cls, scorer: Scorer, llm: Any, render: Callable[..., str]) -> Judge:
        """The scorer, with the generator `llm` as a second reader when it is the local
        model (remote ones expose no token probabilities); `render` fills a prompt
        template by name."""
        if llm is None or not GeneratorReader.supports(llm):
            return cls(scorer)
        system = render("judge_system")

        def template(question: str, passage: str) -> str:
            return render("judge_one", question=question, passage=passage)

        reader = GeneratorReader(llm, system, template)

        def claim_template(claim: str, source: str) -> str:
            return render("check_claim", claim=claim, source=source)

        checker = GeneratorReader(llm, render("check_system"), claim_template)
        return cls(scorer, reader, checker)

    def judge(
        self,
        question: str,
        query: np.ndarray,
        candidates: list[tuple[str, int, str, np.ndarray]],
        shown: list[tuple[str, list[tuple[int, str]]]],
    ) -> Judgement:
        """`candidates`: (chunk id, start, text, vector) of each candidate sentence;
        `shown`: (chunk id, [(start, text)]) of each passage to judge."""
        sentences: dict[tuple[str, int], float] = {}
        if candidates:
            rates = self.scorer.score(
                query, np.stack([c[3] for c in candidates]), [c[2] for c in candidates], question
            )
            sentences = {(c[0], c[1]): float(p) for c, p in zip(candidates, rates, strict=True)}
        by_scorer = [
            max((sentences.get((cid, start), 0.0) for start, _ in quotes), default=0.0)
            for cid, quotes in shown
        ]
        if self.reader is None or not shown:
            return Judgement(tuple(by_scorer), sentences, "scorer")
        # The generator reads the passages retrieval ranked first (`shown` is in that
        # order): the scorer alone would pick them by its own ranking, whose misses
        # the generator could then never correct.
        top = list(range(min(GENERATOR_READS, len(shown))))
        texts = [" ".join(" ".join(t.split()) for _, t in shown[i][1]) for i in top]
        read = dict(zip(top, self.reader.rate(question, texts), strict=True))
        combined = tuple(
            (by_scorer[i] + read[i]) / 2 if i in read else by_scorer[i] / 2
            for i in range(len(shown))
        )
        return Judgement(combined, sentences, "scorer+generator")

    def claims_hold(
        self,
        judgement: Judgement,
        question: str,
        claims: list[tuple[str, int, str, str, str, str]],
        quoted: bool = False,
    ) -> list[Held]:
        """Whether each claim holds: its source sentence answers the question, and says
        what the claim says. `claims`: (chunk id, start, source text, claim text, the
        source's headline, the sentence before the source, or ""). Read by the generator
        when there is one; by the scorer's rating of the source only otherwise.

        Whether the source says what the claim says is asked of the sentence under its
        headline: a right claim names what the sentence is about from the headline ("the
        works on line F" for "le chantier"), and read alone the sentence did not say it.
        Where it does not, it is asked again after the sentence before: a claim may join
        two ("postponed to March 2027 because the rails must be replaced", the reason
        given in the next sentence). Asked that way first, a right claim read from one
        sentence fell below the floor (multilingual set, one of 37 answers).

        `quoted`: the claims are quotes given after the writer declined, whose sentence
        must answer more surely (`Thresholds.quote`).
        """
        floor = judgement.thresholds
        answering = floor.quote if quoted else floor.sentence
        if self.reader is None or judgement.readers == "scorer":
            return [
                Held(judgement.rate(cid, start) >= answering, True) for cid, start, *_ in claims
            ]
        answers = self.reader.rate(question, [" ".join(c[2].split()) for c in claims])
        states = [
            self.says(claim, src, title, before, floor.states)
            for _, _, src, claim, title, before in claims
        ]
        return [
            Held(a >= answering, s >= floor.states) for a, s in zip(answers, states, strict=True)
        ]

    def says(
        self, claim: str, src: str, title: str = "", before: str = "", enough: float = 1.0
    ) -> float:
        """P(yes), read by the generator, that the source sentence `src` under its
        headline `title` says what `claim` says; read again after the sentence `before`
        when the first reading is under `enough` (`claims_hold`). 1.0 without a checker,
        or for a claim that is its source."""
        if self.checker is None or claim == src:
            return 1.0
        alone = self.checker.rate(claim, [f"{title}\n\n{' '.join(src.split())}"])[0]
        if alone >= enough or not before:
            return alone
        joined = f"{' '.join(before.split())} {' '.join(src.split())}"
        return max(alone, self.checker.rate(claim, [f"{title}\n\n{joined}"])[0])


_YES = ("yes", "Yes")
_NO = ("no", "No")


def _llama(llm: Any) -> Any | None:
    """llama-cpp-python's model under a llama-index LlamaCPP, when `llm` is one."""
    model = getattr(llm, "_model", None)
    fits = all(hasattr(model, a) for a in ("eval", "tokenize", "input_ids", "_ctx"))
    return model if fits and callable(getattr(llm, "messages_to_prompt", None)) else None


def _single(llama: Any, text: str) -> int:
    ids = llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
    if len(ids) != 1:
        raise ValueError(f"the generator's vocabulary splits {text!r}")
    return int(ids[0])


def _next_logits(llama: Any, prompt: str) -> np.ndarray:
    """The logits of the token after `prompt`, read from what llama.cpp holds of the same
    beginning or a state kept of it (`qa.native`)."""
    from qa.native import read_prompt

    read_prompt(llama, llama.tokenize(prompt.encode("utf-8"), special=True))
    # Without logits_all, llama.cpp keeps the last position's logits only, in its
    # context (Llama.scores is not filled).
    logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
    return logits.astype(np.float64)


def anchors_shared(question: str, text: str) -> tuple[float, float, float]:
    """Whether `text` has digits, and the shares of the question's numbers and names
    (capitalised words past the first, first five letters) it repeats: language-neutral
    evidence, whatever the script of the words around them."""
    q_numbers = set(_DIGITS.findall(question))
    t_numbers = set(_DIGITS.findall(text))
    q_names = {
        m.group(0)[:5].lower()
        for m in _NAME.finditer(question)
        if m.group(0)[0].isupper() and not first_word(question, m.start())
    }
    t_names = {m.group(0)[:5].lower() for m in _NAME.finditer(text)}
    return (
        float(bool(t_numbers - q_numbers)),
        len(q_numbers & t_numbers) / len(q_numbers) if q_numbers else 1.0,
        len(q_names & t_names) / len(q_names) if q_names else 1.0,
    )


def features(
    query: np.ndarray, sentences: np.ndarray, texts: list[str], question: str
) -> np.ndarray:
    """A row of features per candidate sentence of one question.

    The elementwise product of question and sentence vectors lets the model learn which
    kinds of question go with which kinds of sentence (a count with a number, "who"
    with a person) in e5's own space, in any language it reads; the cosine is also taken
    against the best candidate's, since e5's cosines sit on a compressed scale.
    """
    query = np.asarray(query, dtype=np.float32)
    sentences = np.asarray(sentences, dtype=np.float32)
    cos = sentences @ query
    best = float(cos.max()) if len(cos) else 0.0
    extra = np.array(
        [
            [c, c - best, *anchors_shared(question, t), min(len(t.split()), 60) / 30.0]
            for c, t in zip(cos, texts, strict=True)
        ],
        dtype=np.float32,
    ).reshape(len(texts), 6)
    return np.hstack([sentences * query * np.float32(len(query)), extra])


class Logistic:
    """A fitted logistic model over standardised features, kept as JSON."""

    def __init__(
        self,
        weights: np.ndarray,
        bias: float,
        mean: np.ndarray,
        scale: np.ndarray,
        meta: dict[str, Any],
    ):
        self.weights = weights
        self.bias = bias
        self.mean = mean
        self.scale = scale
        self.meta = meta

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(
            np.asarray(data["weights"], dtype=np.float64),
            float(data["bias"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            dict(data.get("meta", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "mean": [round(float(m), 6) for m in self.mean],
            "scale": [round(float(s), 6) for s in self.scale],
            "meta": self.meta,
        }

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        z = ((np.asarray(rows, dtype=np.float64) - self.mean) / self.scale) @ self.weights
        return 1.0 / (1.0 + np.exp(-(z + self.bias)))


class Scorer(Logistic):
    """P(a sentence answers the question) from `features`."""

    @classmethod
    def load(cls, name: str = SCORER_FILE) -> Scorer:
        data = json.loads(resources.files("qa").joinpath("models", name).read_text())
        return cls.from_dict(data)

    def score(
        self, query: np.ndarray, sentences: np.ndarray, texts: list[str], question: str
    ) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.probabilities(features(query, sentences, texts, question))
