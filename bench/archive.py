"""A real news archive at scale: ../shared/eval/orangesum_fr (33,684 French articles).

    python bench/archive.py ../shared/eval/orangesum_fr [--articles N] [--embed use-m3]
        [--sentences] [--index DIR] [--queries 1500]

Converts the archive to qa's JSONL as a reader sees it (headline as title, lead + body as
text, date), ingests it through `qa ingest`'s own pipeline into a fresh index, and reports:
articles/s and chunks/s, seconds per stage (read, chunk, embed, write), the embedding
model alone on the same texts, peak memory, index size per 1,000 articles; then, at the
final size, search latency p50/p95 and headline → article recall@1/5/20 for dense,
lexical and hybrid retrieval. Prints and writes bench/results/archive.<embed>.<N>.json.

    python bench/archive.py ../shared/eval/orangesum_fr --index DIR --search-only

measures only the retrieval part on an index kept from an earlier run.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from common import corpus_lines, model_alone, questions, write_result

from qa import Assistant, load_settings
from qa.evaluate import Scores, first_positive
from qa.retrieve import search

DEPTH = 20


def convert(set_dir: Path, limit: int | None, out: Path) -> int:
    """The first `limit` articles as qa JSONL; the number written."""
    n = 0
    with out.open("w", encoding="utf-8") as w:
        for line in corpus_lines(set_dir):
            if limit is not None and n >= limit:
                break
            w.write(json.dumps(as_read(json.loads(line)), ensure_ascii=False) + "\n")
            n += 1
    return n


def as_read(article: dict[str, Any]) -> dict[str, Any]:
    """An orangesum article as qa JSONL: headline as title, lead + body as text, date."""
    body = "\n\n".join(x for x in (article.get("heading"), article.get("text")) if x)
    return {
        "id": article["id"],
        "title": article.get("orig_title") or article.get("title") or "",
        "text": body,
        "date": article.get("date"),
        "lang": article.get("lang") or "fr",
    }


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def retrieval(qa: Assistant, set_dir: Path, queries: int) -> dict[str, Any]:
    """Headline → article recall and search latency, dense, lexical and hybrid."""
    ids = {d.doc_id for d in qa.documents()}
    asked = [q for q in questions(set_dir) if set(q["positive_ids"]) & ids][:queries]
    model = qa.models.embedding()
    store = qa.store
    methods: dict[str, Any] = {
        "dense": lambda q, v: search(store, v, DEPTH)[0],
        "lexical": lambda q, v: store.lexical.same_language(q, "fr", DEPTH),
        "hybrid": lambda q, v: search(store, v, DEPTH, None, q, "fr")[0],
    }
    results: dict[str, Any] = {"queries": len(asked)}
    for name, run in methods.items():
        ranks: list[int | None] = []
        latencies: list[float] = []
        for q in asked:
            vector = [float(x) for x in model.query(q["question"])]
            started = time.perf_counter()
            found = run(q["question"], vector)
            latencies.append((time.perf_counter() - started) * 1000)
            ranks.append(first_positive([p.doc_id for p in found], set(q["positive_ids"])))
        # Retrieval only: the query embedding (same for all three) is left out.
        results[name] = asdict(Scores.of(ranks, latencies))
        print(name, results[name], flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--articles", type=int, default=None, help="first N articles only")
    ap.add_argument("--embed", default="use-m3")
    ap.add_argument("--sentences", action="store_true", help="embed sentences too")
    ap.add_argument("--index", type=Path, default=None, help="keep the index here")
    ap.add_argument("--queries", type=int, default=1500)
    ap.add_argument("--model-sample", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--search-only", action="store_true", help="measure retrieval on --index, no ingest"
    )
    args = ap.parse_args()
    if args.search_only:
        if args.index is None:
            raise SystemExit("--search-only needs --index")
        qa = Assistant(index_dir=args.index, llm="none")
        found = retrieval(qa, args.set_dir, args.queries)
        docs = len(qa.documents())
        result = {"set": args.set_dir.name, "embed": qa.embed_name, "documents": docs, **found}
        write_result(result, args.out, f"archive-search.{qa.embed_name}.{docs}.json")
        return

    with tempfile.TemporaryDirectory(prefix="qa-archive-") as tmp:
        corpus = Path(tmp) / "archive.jsonl"
        articles = convert(args.set_dir, args.articles, corpus)
        index = args.index or Path(tmp) / "index"
        settings = load_settings({"sentence_index": args.sentences})
        qa = Assistant(index_dir=index, embed=args.embed, llm="none", settings=settings)
        # The model alone is timed before the ingest and after it, in this process; the
        # faster of the two is the rate compared with (after an ingest it measured slower).
        before = model_alone(qa, corpus, args.model_sample, args.sentences)
        report = qa.ingest([corpus])
        print(f"ingest: {report.summary()}", flush=True)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = du(index)
        after = model_alone(qa, corpus, args.model_sample)
        alone = max(before, after)
        rate = report.chunks / report.seconds
        print(
            f"model alone {alone:.1f} chunks/s; ingest {rate:.1f}: {rate / alone:.3f}×", flush=True
        )

        results = retrieval(qa, args.set_dir, args.queries)
        asked = results.pop("queries")

    stages = report.stages
    result = {
        "set": args.set_dir.name,
        "embed": qa.embed_name,
        "sentence_index": args.sentences,
        "articles": articles,
        "documents": report.added,
        "chunks": report.chunks,
        "failed": report.failed,
        "ingest_seconds": round(report.seconds, 1),
        "articles_per_s": round(report.added / report.seconds, 2),
        "chunks_per_s": round(report.chunks / report.seconds, 2),
        "stage_seconds": {k: round(v, 1) for k, v in stages.items()},
        "stage_chunks_per_s": {k: round(report.chunks / v, 1) for k, v in stages.items() if v},
        "model_alone_chunks_per_s": round(alone, 2),
        "model_alone_before_after": [round(before, 2), round(after, 2)],
        "ingest_vs_model": round(report.chunks / report.seconds / alone, 3),
        "peak_memory_mb": round(peak_mb),
        "index_mb": round(size / 2**20, 1),
        "index_mb_per_1000_articles": round(size / 2**20 / max(report.added, 1) * 1000, 2),
        "queries": asked,
        "retrieval": results,
        "date": time.strftime("%Y-%m-%d"),
    }
    name = f"archive.{qa.embed_name}.{articles}{'.sentences' if args.sentences else ''}.json"
    write_result(result, args.out, name)


if __name__ == "__main__":
    main()
