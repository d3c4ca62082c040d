"""Result records of the public API. They carry no llama-index or Chroma types."""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Quote:
    """A sentence of a passage, by its character span in the whole document."""

    start: int
    end: int
    text: str


def date_number(date: str | None, end: bool = False) -> int | None:
    """YYYY[-MM[-DD]] (anything after is ignored) as YYYYMMDD; missing parts are 00, or
    99 for the end of a range, so "2020-05" as an upper bound takes in all of May."""
    if not date:
        return None
    parts = date.strip()[:10].replace("/", "-").split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 and parts[1] else (99 if end else 0)
        day = int(parts[2][:2]) if len(parts) > 2 and parts[2] else (99 if end else 0)
    except ValueError:
        return None
    if not 0 < year < 10000:
        return None
    return year * 10000 + month * 100 + day


@dataclass(frozen=True)
class Filters:
    """Which passages a search may return: by date (inclusive) and by source."""

    since: str | None = None
    until: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        from qa.errors import ConfigError

        for name, value, end in (("since", self.since, False), ("until", self.until, True)):
            if value is not None and date_number(value, end) is None:
                raise ConfigError(
                    f"--{name} takes a date like 2020, 2020-05 or 2020-05-17, not {value!r}."
                )

    def __bool__(self) -> bool:
        return any((self.since, self.until, self.source))

    def accepts(self, source: str, title: str) -> bool:
        needle = (self.source or "").casefold()
        return not needle or needle in source.casefold() or needle in title.casefold()

    def admits(self, date_num: int, source: str, title: str) -> bool:
        """`accepts`, and the date (YYYYMMDD, -1 when unknown) in range."""
        low, high = date_number(self.since), date_number(self.until, end=True)
        if (low is not None or high is not None) and date_num < 0:
            return False
        if low is not None and date_num < low or high is not None and date_num > high:
            return False
        return self.accepts(source, title)


@dataclass(frozen=True)
class Signal:
    """One reason a passage ranked where it did: its score and rank by one signal.

    name: "passage" (cosine of the passage), "sentence" (cosine of its best sentence),
    "lexical" (BM25 of the question's words, same language only), "names" (BM25 of the
    question's names and numbers, other languages only). rank is None when the signal
    did not find the passage.
    """

    name: str
    score: float | None
    rank: int | None
    coverage: float | None = None  # lexical signals: share of the question's words matched


@dataclass(frozen=True)
class Explanation:
    """Every signal of a passage, and the fused score and rank they gave it."""

    signals: tuple[Signal, ...]
    fused: float
    rank: int


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of a document. `start`/`end` are offsets in the document text."""

    doc_id: str
    chunk_id: str
    title: str
    date: str | None
    source: str
    lang: str
    text: str
    start: int
    end: int
    score: float
    sentences: tuple[tuple[int, int], ...] = ()
    sentence_score: float | None = None  # cosine of its best sentence, when the index has them
    explanation: Explanation | None = None  # why it ranked where it did (search results)

    def sentence_texts(self) -> list[Quote]:
        """The passage's sentences with their document offsets."""
        return [Quote(s, e, self.text[s - self.start : e - self.start]) for s, e in self.sentences]

    def to_dict(self, explain: bool = False) -> dict[str, Any]:
        d = asdict(self)
        del d["sentences"]
        if not explain:
            del d["explanation"]
        return d


@dataclass(frozen=True)
class Citation(Passage):
    """A passage cited as `[n]` in an answer, with the sentences the answer quotes."""

    n: int = 0
    quotes: tuple[Quote, ...] = ()

    def to_dict(self, explain: bool = False) -> dict[str, Any]:
        d = super().to_dict(explain)
        d["quotes"] = [asdict(q) for q in self.quotes]
        return {"n": d.pop("n"), **d}


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer and the evidence for it.

    status: "quoted" (extractive), "verified", "moved" (the model cited the wrong
    passage), "added" (the model cited none), "translated" (kept, the judge found its
    source answers, but the source is in another language and the sentence is the
    model's rendering of it, which no check qa has can vouch for), "unsupported" or
    "off-topic" (dropped from the answer: no passage supports it, or only one that
    matches the question clearly less well than the first).
    `source` is the passage sentence that supports it, in the passage's language.
    `translation`: a quote's translation into the question's language by the model,
    shown as unverified; no check qa has can vouch for one (docs/benchmarks.md,
    "Translations the checks cannot vouch for"). None for any other sentence.
    """

    text: str
    citation: int | None
    status: str
    support: float
    source: Quote | None
    source_lang: str | None
    translation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Every step an answer can time, in milliseconds; `--json` shows each, null when it did
# not run (a model already loaded, no generator, no judge).
TIMING_KEYS = (
    "load_embed_ms",
    "load_llm_ms",
    "condense_ms",
    "embed_ms",
    "retrieve_ms",
    "sentences_ms",
    "judge_ms",
    "first_token_ms",
    "verify_ms",
    "total_ms",
)


@dataclass(frozen=True)
class Answer:
    """An answer whose every `[n]` marker names one of `citations`."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    closest: tuple[Passage, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    sentences: tuple[AnswerSentence, ...] = ()
    # "generated" (a model wrote it), "extractive" (quotes), "none" (declined before
    # anything was written)
    mode: str = "extractive"
    standalone_question: str | None = None

    def citation(self, n: int) -> Citation:
        for c in self.citations:
            if c.n == n:
                return c
        raise KeyError(n)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "closest": [p.to_dict() for p in self.closest],
            "sentences": [s.to_dict() for s in self.sentences],
            "mode": self.mode,
            "standalone_question": self.standalone_question,
            "timings": {key: self.timings.get(key) for key in TIMING_KEYS},
        }


@dataclass(frozen=True)
class DocumentInfo:
    """A document in the index."""

    doc_id: str
    title: str
    date: str | None
    source: str
    lang: str
    chunks: int


@dataclass(frozen=True)
class IngestFailure:
    """One input that could not be ingested, and why."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


@dataclass
class IngestReport:
    """What an ingest did."""

    added: int = 0
    updated: int = 0
    skipped: int = 0
    chunks: int = 0
    seconds: float = 0.0
    failures: list[IngestFailure] = field(default_factory=list)
    # Articles not stored because the index has them under another id: (source, that id).
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    # Seconds spent reading files, chunking, embedding and writing to the store.
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def summary(self) -> str:
        repeated = f", {len(self.duplicates)} duplicates" if self.duplicates else ""
        return (
            f"{self.added} added, {self.updated} updated, {self.skipped} unchanged"
            f"{repeated}, {self.failed} failed; {self.chunks} chunks in {self.seconds:.1f} s"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "skipped": self.skipped,
            "failed": self.failed,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "failures": [str(f) for f in self.failures],
            "duplicates": [{"source": s, "same_as": d} for s, d in self.duplicates],
            "stage_seconds": {k: round(v, 3) for k, v in self.stages.items()},
        }


@dataclass(frozen=True)
class Check:
    """One line of `qa doctor`."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Health:
    """What `Assistant.doctor` found, and what it repaired."""

    checks: tuple[Check, ...]
    repaired: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [asdict(c) for c in self.checks],
            "repaired": list(self.repaired),
        }


@dataclass(frozen=True)
class Scores:
    """Recall at 1, 5 and 20 and mean reciprocal rank of a method on some questions."""

    questions: int
    recall_at_1: float
    recall_at_5: float
    recall_at_20: float
    mrr: float
    search_p50_ms: float
    search_p95_ms: float

    @classmethod
    def of(cls, ranks: list[int | None], latencies_ms: list[float]) -> Scores:
        n = len(ranks) or 1

        def recall(k: int) -> float:
            return round(sum(r is not None and r <= k for r in ranks) / n, 4)

        ordered = sorted(latencies_ms) or [0.0]
        return cls(
            questions=len(ranks),
            recall_at_1=recall(1),
            recall_at_5=recall(5),
            recall_at_20=recall(20),
            mrr=round(sum(1 / r for r in ranks if r) / n, 4),
            search_p50_ms=round(statistics.median(ordered), 1),
            search_p95_ms=round(
                ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1
            ),
        )


@dataclass(frozen=True)
class Method:
    """One retrieval method on the set: overall, by question language, and its ingest."""

    name: str
    scores: Scores
    by_language: dict[str, Scores]
    chunks: int | None = None  # None: the index was already there (`use_index`)
    ingest_chunks_per_s: float | None = None


@dataclass(frozen=True)
class Evaluation:
    """What `evaluate_retrieval` measured (`qa eval`)."""

    set_name: str
    embed: str
    documents: int
    skipped_questions: int  # their positive documents are not in the index
    methods: tuple[Method, ...]
    date: str = field(default_factory=lambda: time.strftime("%Y-%m-%d"))

    def method(self, name: str) -> Method:
        return next(m for m in self.methods if m.name == name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
