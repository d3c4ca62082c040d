"""Answer benchmark: generated (or extractive) answers on a set of ../shared/eval.

    python bench/answers.py ../shared/eval/xquad_en-es --questions 100 [--unanswerable 20]
        [--corpus N] [--llm local|none] [--index DIR] [--generations FILE]

Ingests the corpus into a temporary index, answers N questions through `Assistant.ask_stream`
and reports: answers containing a gold answer (either list), citation precision (a cited
passage belongs to a positive document; beside it, the share of cited passages that contain
a gold answer), abstention on unanswerable questions, false abstention on answerable ones,
time to first token and total time p50.

`--index DIR` keeps the index for the next run (ingest then skips what it holds);
`--generations FILE` records the generator's replies by prompt and replays the ones it
holds. The local model decodes greedily, so a replay on the same index is the run it
recorded, and a change of verification is judged on the very same answers in minutes.
Replayed replies take no time: with them, the timings say nothing of the model.

Unanswerable questions: a question line may say `"answerable": false`. Sets without such
lines get them made: `--unanswerable K` leaves the positive documents of K questions out of
the index, so nothing retrieved can answer those K.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import corpus_lines, sample, write_result

from qa import Assistant
from qa.evaluate_answers import ask_timed, contains_gold


class Recorded:
    """A llama-index LLM's replies, recorded by their prompt and replayed from `path`."""

    def __init__(self, path: Path, llm: Any):
        self.path = path
        self.llm = llm
        self.replies: dict[str, list[str]] = json.loads(path.read_text()) if path.is_file() else {}
        self.replayed = 0

    def _reply(self, key: str, make: Any) -> Iterator[str]:
        if key in self.replies:
            self.replayed += 1
            yield from self.replies[key]
            return
        parts = []
        for part in make():
            parts.append(part)
            yield part
        self.replies[key] = parts
        self.path.write_text(json.dumps(self.replies))

    @staticmethod
    def _key(kind: str, messages: Any) -> str:
        return json.dumps([kind, [(m.role.value, m.content) for m in messages]])

    def stream_chat(self, messages: Any) -> Iterator[Any]:
        from llama_index.core.llms import ChatMessage, ChatResponse

        def deltas() -> Iterator[str]:
            return (c.delta or "" for c in self.llm.stream_chat(messages))

        text = ""
        for delta in self._reply(self._key("stream", messages), deltas):
            text += delta
            yield ChatResponse(message=ChatMessage(role="assistant", content=text), delta=delta)

    def chat(self, messages: Any) -> Any:
        from llama_index.core.llms import ChatMessage, ChatResponse

        reply = self._reply(
            self._key("chat", messages), lambda: [str(self.llm.chat(messages).message.content)]
        )
        return ChatResponse(message=ChatMessage(role="assistant", content="".join(reply)))

    def __getattr__(self, name: str) -> Any:
        # The judge reads the model's next-token probabilities (`_model`,
        # `messages_to_prompt`, `next_token`): those pass through, computed each run (they
        # cost no generation). Without them the judge was silently off in a replay.
        return getattr(self.llm, name)

    def complete(self, prompt: str) -> Any:
        from llama_index.core.llms import CompletionResponse

        reply = self._reply(
            json.dumps(["complete", prompt]), lambda: [self.llm.complete(prompt).text]
        )
        return CompletionResponse(text="".join(reply))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--questions", type=int, default=100)
    ap.add_argument("--unanswerable", type=int, default=20)
    ap.add_argument("--corpus", type=int, default=None, help="first N corpus articles only")
    ap.add_argument("--llm", default="local")
    ap.add_argument("--embed", default="e5")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--index", type=Path, default=None, help="keep the index here")
    ap.add_argument("--generations", type=Path, default=None, help="record and replay")
    ap.add_argument(
        "--split",
        choices=("tune", "report"),
        default=None,
        help="questions of even (tune) or odd (report) articles only",
    )
    args = ap.parse_args()

    corpus = [json.loads(line) for line in corpus_lines(args.set_dir)][: args.corpus]
    ids = {c["id"] for c in corpus}
    chosen, left_out = sample(args.set_dir, ids, args.questions, args.unanswerable, args.split)

    rows = []
    recorded = None
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or Path(tmp) / "index"
        # Beside a kept index, at a path that stays: a document's source is part of it.
        path = index.parent / f"{index.name}.corpus.jsonl"
        path.write_text("".join(json.dumps(c) + "\n" for c in corpus if c["id"] not in left_out))
        qa = Assistant(index_dir=index, embed=args.embed, llm=args.llm)
        print(f"ingest: {qa.ingest([path]).summary()}", flush=True)
        # A kept index may hold what an earlier sample indexed and this one leaves out.
        removed = sum(qa.remove(doc_id) for doc_id in sorted(left_out))
        print(f"left out: {len(left_out)} documents ({removed} removed from the kept index)")
        if args.generations and qa.llm is not None:
            recorded = Recorded(args.generations, qa.llm)
            qa.llm = recorded
        for i, q in enumerate(chosen, start=1):
            answer, first, total = ask_timed(qa, q["question"])
            found = qa.search(q["question"], 10)
            best = found[0].sentence_score if found else None
            cited = [c.doc_id in q["positive_ids"] for c in answer.citations]
            # A second lens on the same citations: sets label one paragraph per question,
            # and a sibling paragraph of the same article often states the answer too.
            holds = [contains_gold(c.text, q) for c in answer.citations]
            ranks = {p.chunk_id: (r, p) for r, p in enumerate(found, 1)}
            by_n = {c.n: c for c in answer.citations}
            positive_ranks = [r for r, p in enumerate(found, 1) if p.doc_id in q["positive_ids"]]
            rows.append(
                {
                    "question": q["question"],
                    "answerable": q.get("answerable", True),
                    "abstained": answer.abstained,
                    "gold": contains_gold(answer.text, q),
                    "cited": cited,
                    "cited_holds_gold": holds,
                    "first_token_s": first,
                    "total_s": total,
                    "mode": answer.mode,
                    "best_sentence": best,
                    "best_score": found[0].score if found else None,
                    "positive_rank": positive_ranks[0] if positive_ranks else None,
                    # Why each citation was right or wrong: how it was decided, how well
                    # its sentence is supported, and where retrieval ranked its passage.
                    "sentences": [
                        {
                            "text": s.text,
                            "status": s.status,
                            "support": s.support,
                            "positive": c.doc_id in q["positive_ids"],
                            "retrieval_rank": ranks[c.chunk_id][0] if c.chunk_id in ranks else None,
                            # How close its passage came to the top one ("best_score",
                            # "best_sentence"): its cosine with the question, and its
                            # best sentence's.
                            "passage_score": c.score,
                            "passage_sentence_score": c.sentence_score,
                            "source": s.source.text if s.source else None,
                        }
                        for s in answer.sentences
                        if s.citation is not None and (c := by_n[s.citation])
                    ],
                    "answer": answer.text,
                }
            )
            print(
                f"{i}/{len(chosen)} abstained={answer.abstained} gold={rows[-1]['gold']} "
                f"cited={cited} {total:.1f}s | {answer.text[:100]!r}",
                flush=True,
            )

    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    citations = [c for r in answerable for c in r["cited"]]
    holding = [h for r in answerable for h in r["cited_holds_gold"]]
    firsts = [r["first_token_s"] for r in rows if r["first_token_s"] is not None]
    result = {
        "set": args.set_dir.name,
        "llm": args.llm,
        "embed": args.embed,
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "gold_in_answer": round(sum(r["gold"] for r in answerable) / len(answerable), 3),
        "citation_precision": round(sum(citations) / len(citations), 3) if citations else None,
        "cited_passage_holds_gold": round(sum(holding) / len(holding), 3) if holding else None,
        "abstention_on_unanswerable": (
            round(sum(r["abstained"] for r in unanswerable) / len(unanswerable), 3)
            if unanswerable
            else None
        ),
        "false_abstention": round(sum(r["abstained"] for r in answerable) / len(answerable), 3),
        "first_token_p50_s": round(statistics.median(firsts), 2) if firsts else None,
        "total_p50_s": round(statistics.median(r["total_s"] for r in rows), 2),
        "replayed_generations": recorded.replayed if recorded else 0,
        "date": time.strftime("%Y-%m-%d"),
    }
    result["rows"] = rows
    write_result(result, args.out, f"answers.{args.set_dir.name}.{args.llm}.json")


if __name__ == "__main__":
    main()
