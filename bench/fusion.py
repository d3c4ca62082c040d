"""How the retrieval signals combine, measured: recall of each fusion setting on indexes
built from ../shared/eval sets, from one pass of retrieval per question.

    python bench/fusion.py INDEX_DIR SET_DIR [INDEX_DIR SET_DIR ...] [--questions N]
        [--split tune|report]

Each INDEX_DIR holds an index of SET_DIR's corpus (`QA_INDEX_DIR=INDEX_DIR qa ingest
SET_DIR/corpus.jsonl`). Every question's candidates and signals are computed once; each
setting (dense only, lexical weights, RRF k, the companion model's weight) is then scored
on them, so the comparison is exact and cheap. `--split` keeps the questions of even
(tune) or odd (report) articles. Prints a table and writes bench/results/fusion.json.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

from common import questions, split_of, write_result

from qa import Assistant
from qa.evaluate import Scores, first_positive
from qa.fusion import (
    COMPANION_WEIGHT,
    LEXICAL_WEIGHT,
    NAMES_WEIGHT,
    RRF_K,
    SENTENCE_SHARE,
    Candidate,
    fuse,
)
from qa.language import detect_language
from qa.retrieve import candidates

DEPTH = 40


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("pairs", nargs="+", type=Path, help="INDEX_DIR SET_DIR, repeated")
    ap.add_argument("--questions", type=int, default=None, help="first N questions of each set")
    ap.add_argument("--split", choices=("tune", "report"), default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if len(args.pairs) % 2:
        raise SystemExit("give INDEX_DIR SET_DIR pairs")
    settings = (
        [(f"dense only, sentence share {ss:g}", 60.0, 0.0, 0.0, ss, 0.0) for ss in (0.5, 0.65, 0.8)]
        + [
            (f"k={k:g} lexical={lw:g} names={nw:g} sentence share {ss:g}", k, lw, nw, ss, 0.0)
            for k, lw, nw, ss in itertools.product(
                (10, 30), (0.75, 1.0), (0.0, 0.1, 0.25, 0.5), (0.65,)
            )
        ]
        + [
            (f"default, names weight {nw:g}", RRF_K, LEXICAL_WEIGHT, nw, SENTENCE_SHARE, cw)
            for nw in (0.25, 0.5, 1.0, 2.0)
            for cw in (COMPANION_WEIGHT,)
        ]
        + [
            (
                f"default, companion weight {cw:g}",
                RRF_K,
                LEXICAL_WEIGHT,
                NAMES_WEIGHT,
                SENTENCE_SHARE,
                cw,
            )
            for cw in sorted({0.02, COMPANION_WEIGHT, 0.1, 0.2})
        ]
    )
    rows: dict[str, dict[str, float]] = {}
    for index_dir, set_dir in zip(args.pairs[::2], args.pairs[1::2], strict=True):
        qa = Assistant(index_dir=index_dir, llm="none")
        model = qa.models.embedding()
        ids = {d.doc_id for d in qa.documents()}
        asked = [
            q
            for q in questions(set_dir)
            if set(q["positive_ids"]) & ids
            and (args.split is None or split_of(q["positive_ids"][0], article=True) == args.split)
        ][: args.questions]
        per_question: list[tuple[list[Candidate], set[str]]] = []
        started = time.perf_counter()
        for q in asked:
            vector = [float(x) for x in model.query(q["question"])]
            lang = detect_language(q["question"])
            second = qa.models.companion_query(q["question"])
            cands, _ = candidates(
                qa.store, vector, DEPTH, None, q["question"], lang, companion=second
            )
            per_question.append((cands, set(q["positive_ids"])))
        print(f"{set_dir.name}: {len(asked)} questions in {time.perf_counter() - started:.0f} s")
        for name, k, lw, nw, ss, cw in settings:
            ranks = []
            for cands, positives in per_question:
                ranked = fuse(cands, 20, k, lw, nw, ss, cw)
                ranks.append(first_positive([p.doc_id for p in ranked], positives))
            scores = Scores.of(ranks, [])
            row = rows.setdefault(name, {})
            row[f"{set_dir.name} R@1"] = scores.recall_at_1
            row[f"{set_dir.name} R@5"] = scores.recall_at_5
    for name, row in rows.items():
        print(f"{name:32s} " + "  ".join(f"{k} {v:.3f}" for k, v in row.items()))
    write_result({"depth": DEPTH, "settings": rows}, args.out, "fusion.json")


if __name__ == "__main__":
    main()
