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
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa import Assistant  # noqa: E402
from qa.chunking import chunk_document  # noqa: E402
from qa.documents import read  # noqa: E402
from qa.ingest import embedding_text  # noqa: E402


def corpus_file(set_dir: Path) -> Path:
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        if (set_dir / name).exists():
            return set_dir / name
    raise SystemExit(f"{set_dir}: no corpus.jsonl")


def limited_corpus(set_dir: Path, limit: int | None, out: Path) -> Path:
    """The corpus as plain JSONL (decompressed, first `limit` articles)."""
    src = corpus_file(set_dir)
    opener = gzip.open if src.suffix == ".gz" else open
    with opener(src, "rt", encoding="utf-8") as f, out.open("w", encoding="utf-8") as w:
        for i, line in enumerate(f):
            if limit is not None and i >= limit:
                break
            w.write(line)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--embed", default="e5")
    ap.add_argument("--questions", type=int, default=None, help="first N questions only")
    ap.add_argument("--corpus", type=int, default=None, help="first N corpus articles only")
    ap.add_argument("--model-sample", type=int, default=200, help="chunks for the model-alone rate")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        corpus = limited_corpus(args.set_dir, args.corpus, Path(tmp) / "corpus.jsonl")
        qa = Assistant(index_dir=Path(tmp) / "index", embed=args.embed)
        t = time.perf_counter()
        report = qa.ingest([corpus])
        ingest_s = time.perf_counter() - t
        print(f"ingest: {report.summary()}", flush=True)
        ids = {d.doc_id for d in qa.documents()}

        # The model alone on the first chunks of the same texts, batched the same way.
        texts = []
        for item in read(corpus):
            doc = item.result
            if doc is not None and hasattr(doc, "text"):
                texts += [
                    embedding_text(doc, c) for c in chunk_document(doc, qa.settings.chunk_words)
                ]  # type: ignore[arg-type]
            if len(texts) >= args.model_sample:
                break
        texts = texts[: args.model_sample]
        model = qa._embedding()
        t = time.perf_counter()
        for i in range(0, len(texts), qa.settings.batch_size):
            model.passages(texts[i : i + qa.settings.batch_size])
        model_rate = len(texts) / (time.perf_counter() - t)

        questions = [
            json.loads(line) for line in (args.set_dir / "questions.jsonl").open(encoding="utf-8")
        ]
        questions = [q for q in questions if set(q["positive_ids"]) & ids][: args.questions]
        ranks: list[int | None] = []
        latencies: list[float] = []
        for q in questions:
            t = time.perf_counter()
            passages = qa.search(q["question"], 20)
            latencies.append((time.perf_counter() - t) * 1000)
            docs = list(dict.fromkeys(p.doc_id for p in passages))
            positives = set(q["positive_ids"])
            ranks.append(next((i + 1 for i, d in enumerate(docs) if d in positives), None))

    n = len(ranks)
    result = {
        "set": args.set_dir.name,
        "embed": qa.embed_name,
        "documents": report.added,
        "chunks": report.chunks,
        "questions": n,
        "recall@1": round(sum(r is not None and r <= 1 for r in ranks) / n, 4),
        "recall@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
        "recall@20": round(sum(r is not None and r <= 20 for r in ranks) / n, 4),
        "mrr": round(sum(1 / r for r in ranks if r) / n, 4),
        "ingest_chunks_per_s": round(report.chunks / ingest_s, 2),
        "model_chunks_per_s": round(model_rate, 2),
        "ingest_vs_model": round(report.chunks / ingest_s / model_rate, 3),
        "search_p50_ms": round(statistics.median(latencies), 1),
        "search_p95_ms": round(percentile(latencies, 0.95), 1),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(result, indent=2))
    out = (
        args.out or Path(__file__).parent / "results" / f"{args.set_dir.name}.{qa.embed_name}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
