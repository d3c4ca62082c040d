"""Judge benchmark: which reader tells the answering passage, and whether there is one.

    python bench/judge.py SET_DIR [--questions 100] [--unanswerable 40] [--split report]
        [--index DIR] [--judges cosine,scorer,point,judge] [--scorer FILE]

For each question, the passages the answer path would judge (retrieval, sentence scores,
the best sentences grouped by passage) are read by each reader:

cosine     its best sentence's e5 cosine with the question (what qa used before a judge)
scorer     its best sentence's probability under the fitted logistic scorer
           (qa/models/scorer-e5.json): qa's judge without a local generator
point      the generator, one prompt per passage, P(yes) to "does it answer?", on the
           scorer's `--point-top` best passages (0 for the others)
judge      qa's judge with the local generator: the mean of scorer and point where the
           generator read the passage, half the scorer's elsewhere
sentences  the generator, one prompt per sentence, on the `--point-top` x 2 sentences
           closest to the question; a passage scores its best sentence's (0 if unread)
list       the generator, one prompt with the numbered passages, P(each number)
read       the generator's P(yes) on the passages qa's judge reads (the first three
           retrieval ranked), keeping its last hidden state for each (`--hidden FILE.npz`,
           the data bench/fit_probe.py fits a probe on; measured, not kept)

Reported per reader: top-1 (answerable questions with a positive passage shown: the best
scored passage is positive), AUC of the best score between answerable and unanswerable
questions, and seconds per question. Unanswerable questions are the set's own (SQuAD
2.0) or made by leaving their passages out of the index. Each question's scores are in
the JSON, so thresholds can be chosen on the tuning split and applied to the report one.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import article_of, corpus_lines, sample, write_result

from qa import Assistant
from qa.answer import judge_passages, score_sentences, shown_passages
from qa.judge import GENERATOR_READS, GeneratorReader, Judge, Scorer, _next_logits, _single
from qa.language import detect_language
from qa.native import shared_prefix
from qa.respond import answer_messages


def auc(positives: list[float], negatives: list[float]) -> float | None:
    """P(a random positive scores above a random negative), ties counting half."""
    if not positives or not negatives:
        return None
    p = np.asarray(positives)[:, None]
    n = np.asarray(negatives)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


class ListJudge:
    """The generator asked once which numbered passage answers, read as the distribution
    of its next token over the numbers (after an opened "["), 0 meaning none. Measured
    beside the others and not kept: a softmax over the shown passages ranks them, it
    does not say whether any answers."""

    INSTRUCTION = (
        "Which passage answers this question? Reply with its number in brackets, "
        "or [0] if none of the passages answers it:"
    )

    def __init__(self, llm: Any):
        self.llm = llm
        self.digits = [_single(llm._model, str(d)) for d in range(10)]

    def judge(self, messages: list[Any], n: int) -> list[float]:
        from llama_index.core.llms import ChatMessage

        system, user = messages
        content = str(user.content).rsplit("\n", 1)[0] + "\n" + self.INSTRUCTION
        prompt = self.llm.messages_to_prompt([system, ChatMessage(role="user", content=content)])
        logits = _next_logits(self.llm._model, str(prompt) + "[")[self.digits[: min(n, 9) + 1]]
        p = np.exp(logits - logits.max())
        return [float(x) for x in (p / p.sum())[1:]] + [0.0] * max(0, n - 9)


def read_with_states(
    reader: GeneratorReader, llm: Any, question: str, texts: list[str]
) -> list[tuple[float, np.ndarray]]:
    """P(yes) for each text and the generator's last hidden state where it reads it (the
    vector its yes/no logits are a linear function of), with llama-cpp-python. llama.cpp
    outputs hidden states only for a batch whose every token it outputs, so the prompt
    goes in without them and its last token alone with them."""
    import llama_cpp

    llama = llm._model
    yes_ids = [_single(llama, t) for t in ("yes", "Yes")]
    no_ids = [_single(llama, t) for t in ("no", "No")]
    read = []
    for text in texts:
        prompt = str(llm.messages_to_prompt(reader.messages(question, text)))
        tokens = llama.tokenize(prompt.encode("utf-8"), special=True)
        # What llama.cpp holds of this prompt already.
        same = shared_prefix(llama.input_ids[: llama.n_tokens], tokens[:-1])
        llama.n_tokens = same
        llama.eval(tokens[same:-1])
        ctx = llama._ctx.ctx
        llama_cpp.llama_set_embeddings(ctx, True)
        try:
            llama.eval(tokens[-1:])
            hidden = np.ctypeslib.as_array(
                llama_cpp.llama_get_embeddings_ith(ctx, -1), shape=(llama.n_embd(),)
            ).astype(np.float32)
            logits = np.ctypeslib.as_array(
                llama_cpp.llama_get_logits_ith(ctx, -1), shape=(llama.n_vocab(),)
            ).astype(np.float64)
        finally:
            llama_cpp.llama_set_embeddings(ctx, False)
        yes, no = np.logaddexp.reduce(logits[yes_ids]), np.logaddexp.reduce(logits[no_ids])
        read.append((float(1.0 / (1.0 + np.exp(no - yes))), hidden))
    return read


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--questions", type=int, default=100)
    ap.add_argument("--unanswerable", type=int, default=40)
    ap.add_argument("--split", choices=("tune", "report"), default="report")
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--judges", default="cosine,scorer,point,judge")
    ap.add_argument("--scorer", type=Path, default=None)
    ap.add_argument("--point-top", type=int, default=2, help="passages the point judge reads")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--hidden", type=Path, default=None, help="where `read` keeps its vectors")
    args = ap.parse_args()
    judges = args.judges.split(",")

    corpus = [json.loads(line) for line in corpus_lines(args.set_dir)]
    chosen, left_out = sample(
        args.set_dir, {c["id"] for c in corpus}, args.questions, args.unanswerable, args.split
    )
    rows: list[dict[str, Any]] = []
    hidden: list[np.ndarray] = []
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or Path(tmp) / "index"
        path = index.parent / f"{index.name}.corpus.jsonl"
        path.write_text("".join(json.dumps(c) + "\n" for c in corpus if c["id"] not in left_out))
        qa = Assistant(index_dir=index, embed="e5", llm="local")
        print(f"ingest: {qa.ingest([path]).summary()}", flush=True)
        # A kept index may hold what an earlier sample indexed and this one leaves out.
        removed = sum(qa.remove(doc_id) for doc_id in sorted(left_out))
        print(f"left out: {len(left_out)} documents ({removed} removed from the kept index)")
        scorer = (
            Scorer.from_dict(json.loads(args.scorer.read_text())) if args.scorer else Scorer.load()
        )
        llm = qa.llm if {"list", "point", "judge", "sentences", "read"} & set(judges) else None
        listwise = ListJudge(llm) if llm is not None else None
        pointwise = None
        if llm is not None:
            pointwise = GeneratorReader(
                llm,
                qa.prompts.render("judge_system"),
                lambda q, p: qa.prompts.render("judge_one", question=q, passage=p),
            )
        by_scorer = Judge(scorer)
        by_both = Judge(scorer, pointwise)

        for i, q in enumerate(chosen, start=1):
            question = q["question"]
            lang = detect_language(question)
            vector = qa._query_vector(question, None)
            passages, stored = qa._search(vector, qa.settings.k, None, question)
            qa._sentences.prefill(passages, stored)
            scored = score_sentences(vector, passages, qa._sentences, qa._floor(lang))
            shown = shown_passages(scored, qa.settings.context_sentences)
            positive = [p.doc_id in q["positive_ids"] for p, _ in shown]
            row: dict[str, Any] = {
                "question": question,
                "article": article_of(q["positive_ids"][0]) if q["positive_ids"] else None,
                "answerable": q.get("answerable", True),
                "positive": positive,
                "scores": {},
                "seconds": {},
            }
            for name in judges:
                t = time.perf_counter()
                if not shown:
                    scores: list[float] = []
                elif name == "cosine":
                    best = {}
                    for s in scored:
                        best.setdefault(s.passage.chunk_id, s.score)
                    scores = [best.get(p.chunk_id, 0.0) for p, _ in shown]
                elif name == "scorer":
                    scores = list(
                        judge_passages(by_scorer, question, vector, scored, shown).passages
                    )
                elif name == "judge" and pointwise is not None:
                    scores = list(judge_passages(by_both, question, vector, scored, shown).passages)
                elif name == "list" and listwise is not None:
                    messages = answer_messages(qa.prompts, shown, question, lang)
                    scores = listwise.judge(messages, len(shown))
                elif name == "point" and pointwise is not None:
                    first = judge_passages(by_scorer, question, vector, scored, shown).passages
                    top = sorted(range(len(shown)), key=lambda k: -first[k])[: args.point_top]
                    texts = [" ".join(" ".join(x.text.split()) for x in shown[k][1]) for k in top]
                    rated = dict(zip(top, pointwise.rate(question, texts), strict=True))
                    scores = [rated.get(k, 0.0) for k in range(len(shown))]
                elif name == "read" and pointwise is not None:
                    top = list(range(min(GENERATOR_READS, len(shown))))
                    texts = [" ".join(" ".join(x.text.split()) for x in shown[k][1]) for k in top]
                    read = read_with_states(pointwise, llm, question, texts)
                    row["hidden"] = list(range(len(hidden), len(hidden) + len(read)))
                    hidden += [h for _, h in read]
                    scores = [p for p, _ in read] + [0.0] * (len(shown) - len(read))
                elif name == "sentences" and pointwise is not None:
                    near = scored[: 2 * args.point_top]
                    rates = pointwise.rate(question, [" ".join(x.quote.text.split()) for x in near])
                    by_sentence = {
                        (x.passage.chunk_id, x.quote.start): r
                        for x, r in zip(near, rates, strict=True)
                    }
                    scores = [
                        max(
                            (by_sentence.get((p.chunk_id, x.start), 0.0) for x in quotes),
                            default=0.0,
                        )
                        for p, quotes in shown
                    ]
                else:
                    raise SystemExit(f"unknown judge {name!r}")
                row["scores"][name] = [round(x, 4) for x in scores]
                row["seconds"][name] = round(time.perf_counter() - t, 3)
            rows.append(row)
            print(
                f"{i}/{len(chosen)} {row['answerable']} {positive} "
                + " ".join(f"{n}={max(s, default=0):.2f}" for n, s in row["scores"].items()),
                flush=True,
            )

    summary: dict[str, Any] = {}
    for name in judges:
        answerable = [r for r in rows if r["answerable"]]
        reachable = [r for r in answerable if any(r["positive"])]
        top1 = [r["positive"][int(np.argmax(r["scores"][name]))] for r in reachable]
        summary[name] = {
            "top1": round(float(np.mean(top1)), 3) if top1 else None,
            "auc_answerable": auc(
                [max(r["scores"][name], default=0.0) for r in answerable],
                [max(r["scores"][name], default=0.0) for r in rows if not r["answerable"]],
            ),
            "seconds_per_question_p50": round(
                float(np.median([r["seconds"][name] for r in rows])), 3
            ),
        }
    result = {
        "set": args.set_dir.name,
        "split": args.split,
        "questions": len(rows),
        "unanswerable": sum(not r["answerable"] for r in rows),
        "judges": summary,
        "date": time.strftime("%Y-%m-%d"),
        "rows": rows,
    }
    write_result(result, args.out, f"judge.{args.set_dir.name}.{args.split}.json")
    if args.hidden and hidden:
        np.savez_compressed(args.hidden, hidden=np.stack(hidden).astype(np.float16))


if __name__ == "__main__":
    main()
