"""Retrieval benchmark on a set in the layout of ../shared/eval (corpus.jsonl + questions.jsonl).

    python bench/retrieval.py ../shared/eval/xquad_en-es [--embed e5] [--questions N]

Ingests the corpus into a fresh temporary index through the real pipeline, asks every
question through `Assistant.search`, and prints and writes (bench/results/<set>.<embed>.json):
recall@1/5/20 and MRR of the positive documents, ingest chunks/s next to the embedding
model's own chunks/s on the same texts (one run, so the ratio is fair on a noisy machine),
and search latency p50/p95.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from common import corpus_lines, model_alone, questions, write_result

from qa import Assistant, load_settings
from qa.evaluate import Scores, first_positive


def limited_corpus(set_dir: Path, limit: int | None, out: Path) -> Path:
    """The corpus as plain JSONL (decompressed, first `limit` articles)."""
    with out.open("w", encoding="utf-8") as w:
        for i, line in enumerate(corpus_lines(set_dir)):
            if limit is not None and i >= limit:
                break
            w.write(line)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--embed", default="e5")
    ap.add_argument("--questions", type=int, default=None, help="first N questions only")
    ap.add_argument("--corpus", type=int, default=None, help="first N corpus articles only")
    ap.add_argument("--model-sample", type=int, default=200, help="chunks for the model-alone rate")
    ap.add_argument("--no-sentences", action="store_true", help="index passages only")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        corpus = limited_corpus(args.set_dir, args.corpus, Path(tmp) / "corpus.jsonl")
        settings = load_settings({"sentence_index": not args.no_sentences})
        qa = Assistant(
            index_dir=Path(tmp) / "index", embed=args.embed, llm="none", settings=settings
        )
        t = time.perf_counter()
        report = qa.ingest([corpus])
        ingest_s = time.perf_counter() - t
        print(f"ingest: {report.summary()}", flush=True)
        ids = {d.doc_id for d in qa.documents()}

        sentences = qa.store.info().sentences  # type: ignore[union-attr]
        model_rate = model_alone(qa, corpus, args.model_sample)

        asked = [q for q in questions(args.set_dir) if set(q["positive_ids"]) & ids]
        asked = asked[: args.questions]
        ranks: list[int | None] = []
        latencies: list[float] = []
        for q in asked:
            t = time.perf_counter()
            passages = qa.search(q["question"], 20)
            latencies.append((time.perf_counter() - t) * 1000)
            ranks.append(first_positive([p.doc_id for p in passages], set(q["positive_ids"])))

    result = {
        "set": args.set_dir.name,
        "embed": qa.embed_name,
        "sentence_index": sentences,
        "documents": report.added,
        "chunks": report.chunks,
        **asdict(Scores.of(ranks, latencies)),
        "ingest_chunks_per_s": round(report.chunks / ingest_s, 2),
        "model_chunks_per_s": round(model_rate, 2),
        "ingest_vs_model": round(report.chunks / ingest_s / model_rate, 3),
        "date": time.strftime("%Y-%m-%d"),
    }
    kind = "sentences" if sentences else "passages"
    write_result(result, args.out, f"retrieval.{args.set_dir.name}.{qa.embed_name}.{kind}.json")


if __name__ == "__main__":
    main()
