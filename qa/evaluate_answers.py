"""Labelled questions → answer figures: what `qa eval SET --answers` measures.

A set is the folder `qa eval` reads (corpus.jsonl and questions.jsonl), and each
question may carry `"answers"` (strings a right answer contains, any of them) and
`"answerable": false` (no article of the corpus answers it: qa should abstain).
Per language of the question and overall:

gold in answer       answerable questions whose answer contains a gold string
citation precision   citations of answered questions naming a positive document
abstention           unanswerable questions qa declined
false abstention     answerable questions qa declined
first token, total   seconds from the question to the first token and to the answer
"""

from __future__ import annotations

import statistics
import tempfile
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.evaluate import Progress, _corpus_file, _questions, private_index
from qa.language import detect_language

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.types import Answer


def fold(text: str) -> str:
    """Lower case, accents and extra spaces dropped: "Élysée " matches "elysee"."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(text.split())


def contains_gold(answer: str, question: dict[str, Any]) -> bool:
    """Whether `answer` holds one of the question's gold strings (either list)."""
    golds = list(question.get("answers", [])) + list(question.get("answers_passage_lang", []))
    return any(fold(g) in fold(answer) for g in golds if g.strip())


@dataclass(frozen=True)
class AnswerScores:
    """Answer figures over some questions; None where no question measures it."""

    questions: int
    unanswerable: int
    gold_in_answer: float | None
    citation_precision: float | None
    abstention: float | None
    false_abstention: float | None
    first_token_p50_s: float | None
    total_p50_s: float | None

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> AnswerScores:
        answerable = [r for r in rows if r["answerable"]]
        unanswerable = [r for r in rows if not r["answerable"]]
        cited = [c for r in answerable for c in r["cited"]]
        firsts = [r["first_token_s"] for r in rows if r["first_token_s"] is not None]

        def share(values: list[bool]) -> float | None:
            return round(sum(values) / len(values), 3) if values else None

        return cls(
            questions=len(rows),
            unanswerable=len(unanswerable),
            gold_in_answer=share([r["gold"] for r in answerable]),
            citation_precision=share(cited),
            abstention=share([r["abstained"] for r in unanswerable]),
            false_abstention=share([r["abstained"] for r in answerable]),
            first_token_p50_s=round(statistics.median(firsts), 2) if firsts else None,
            total_p50_s=round(statistics.median(r["total_s"] for r in rows), 2) if rows else None,
        )


@dataclass(frozen=True)
class AnswerEvaluation:
    set_name: str
    llm: str
    overall: AnswerScores
    by_language: dict[str, AnswerScores]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def grade(
    question: dict[str, Any], answer: Answer, first: float | None, total: float
) -> dict[str, Any]:
    """One question's row: what was asked, what qa did, and how it scores."""
    positives = set(question.get("positive_ids", []))
    return {
        "question": question["question"],
        "lang": str(question.get("lang") or detect_language(question["question"])),
        "answerable": bool(question.get("answerable", True)),
        "abstained": answer.abstained,
        "gold": contains_gold(answer.text, question),
        "cited": [c.doc_id in positives for c in answer.citations],
        "first_token_s": first,
        "total_s": total,
        "mode": answer.mode,
        "answer": answer.text,
    }


def ask_timed(qa: Assistant, question: str) -> tuple[Answer, float | None, float]:
    """The answer, and seconds to its first token (None if none) and to its end."""
    started = time.perf_counter()
    stream = qa.ask_stream(question)
    first = None
    for _ in stream:
        first = first or time.perf_counter() - started
    return stream.answer, first, time.perf_counter() - started


def evaluate_answers(
    assistant: Assistant,
    set_dir: Path,
    *,
    corpus: Path | None = None,
    use_index: bool = False,
    limit: int | None = None,
    on_progress: Progress | None = None,
) -> AnswerEvaluation:
    """qa's answers on a labelled set, with the assistant's generator; see the module."""

    set_dir = Path(set_dir)
    corpus_file = _corpus_file(set_dir, corpus)
    questions = _questions(set_dir, limit)
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        if use_index:
            qa = assistant
        else:
            qa = private_index(assistant, corpus_file, Path(tmp), on_progress)[0]
            if assistant.models.llm_loaded:  # a generator handed to the assistant answers here too
                qa.llm = assistant.llm
        ids = {d.doc_id for d in qa.documents()}
        asked = [
            q
            for q in questions
            if q.get("answerable", True) is False or set(q["positive_ids"]) & ids
        ]
        rows = []
        for i, q in enumerate(asked):
            rows.append(grade(q, *ask_timed(qa, q["question"])))
            if on_progress is not None:
                on_progress("answering", i + 1, len(asked))
        langs = sorted({r["lang"] for r in rows})
        return AnswerEvaluation(
            set_name=set_dir.name,
            llm=qa.models.llm_name if qa.llm is not None else "none",
            overall=AnswerScores.of(rows),
            by_language={
                lang: AnswerScores.of([r for r in rows if r["lang"] == lang]) for lang in langs
            },
            rows=rows,
        )
