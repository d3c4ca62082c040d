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
    model = qa._embedding()
    started = time.perf_counter()
    for i in range(0, len(texts), qa.settings.batch_size):
        model.passages(texts[i : i + qa.settings.batch_size])
    return n / (time.perf_counter() - started)
