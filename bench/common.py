"""Helpers the benchmarks share: eval-set files, the model-alone rate, result files."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa import Assistant

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def corpus_lines(set_dir: Path) -> Iterator[str]:
    """The raw JSONL lines of a set's corpus (plain or gzipped)."""
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        path = set_dir / name
        if path.exists():
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as f:
                yield from f
            return
    raise SystemExit(f"{set_dir}: no corpus.jsonl")


def questions(set_dir: Path) -> list[dict[str, Any]]:
    with (set_dir / "questions.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def article_of(passage_id: str) -> str:
    """ "piaf-012-03" → "piaf-012": a set's passages are numbered within their article."""
    return passage_id.rsplit("-", 1)[0]


def split_of(passage_id: str, *, article: bool = False) -> str:
    """ "tune" for even-numbered articles, "report" for odd ones: thresholds and the
    scorer are fitted on the first, every reported figure comes from the second. With
    `article`, the id is an article's own ("orangesum-23558"), not a passage's."""
    owner = passage_id if article else article_of(passage_id)
    digits = "".join(ch for ch in owner.rsplit("-", 1)[-1] if ch.isdigit())
    return "tune" if digits and int(digits) % 2 == 0 else "report"


def sample(
    set_dir: Path, corpus_ids: set[str], answerable: int, unanswerable: int, split: str | None
) -> tuple[list[dict[str, Any]], set[str]]:
    """Questions spread over a set, and the corpus ids to leave out of the index.

    A set whose questions say `"answerable": false` (SQuAD 2.0) gives its own
    unanswerable questions, their paragraphs indexed. Other sets get them made: the
    positive documents of `unanswerable` questions are left out of the index, so nothing
    retrieved can answer those. `split` keeps the questions of one split only.
    """
    pool = [
        q
        for q in questions(set_dir)
        if set(q["positive_ids"]) & corpus_ids
        and (split is None or split_of(q["positive_ids"][0]) == split)
    ]

    def spread(items: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
        return items[:: max(1, len(items) // n)][:n] if n else []

    if any("answerable" in q for q in pool):
        kept = spread([q for q in pool if q.get("answerable", True)], answerable)
        return kept + spread(
            [q for q in pool if not q.get("answerable", True)], unanswerable
        ), set()
    chosen = spread(pool, answerable + unanswerable)
    made = chosen[answerable:]
    for q in made:
        q["answerable"] = False
    left_out = {d for q in made for d in q["positive_ids"]}
    # A document left out for one question must not be the answer of a kept one.
    kept = [
        q
        for q in chosen
        if q.get("answerable", True) is False or not set(q["positive_ids"]) & left_out
    ]
    return kept, left_out


def write_result(result: dict[str, Any], out: Path | None, default_name: str) -> None:
    print(json.dumps(result, indent=2))
    path = out or ROOT / "bench" / "results" / default_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


def model_alone(qa: Assistant, corpus: Path, sample: int, sentences: bool | None = None) -> float:
    """Chunks/s of the index's embedding model alone on the first `sample` chunks of
    `corpus` (and their sentences, when the index embeds them or `sentences` says so),
    batched as ingest does: the rate ingest could reach unaided, measured in the same run."""
    import time

    from qa.chunking import chunk_document, headed_text
    from qa.documents import Document, read
    from qa.ingest import sentence_spans

    if sentences is None:
        info = qa.store.info()
        sentences = bool(info and info.sentences)
    texts: list[str] = []
    n = 0
    for item in read(corpus):
        if isinstance(item.result, Document):
            chunks = chunk_document(item.result, qa.settings.chunk_words)
            n += len(chunks)
            texts += [headed_text(item.result.title, c.text) for c in chunks]
            if sentences:
                texts += [
                    " ".join(item.result.text[s:e].split())
                    for _, s, e in sentence_spans(item.result, chunks)
                ]
        if n >= sample:
            break
    model = qa.models.embedding()
    started = time.perf_counter()
    for i in range(0, len(texts), qa.settings.batch_size):
        model.passages(texts[i : i + qa.settings.batch_size])
    return n / (time.perf_counter() - started)
