""" "What is the latest on X?" across languages: is the newest article on X cited first?

    python bench/latest.py bench/data/latest --split tune --margins 0.01,0.02,0.03,0.05
    python bench/latest.py bench/data/latest --split report --out results/latest.json
    python bench/latest.py bench/data/latest_heldout6 --split all --answers 24


The set (bench/data/latest, written for qa) holds subjects with articles in three
languages on three dates, distractors, and questions asking for the latest news on a
subject in several languages. A question scores when the first passage `search` returns
is from the newest article on its subject; with `--answers N`, also whether the answer
(the local model's) cites that article first, for the first N questions. Subjects are
split in two by name (`split`):
the margin is chosen on "tune", figures are reported on "report". `--margins` sweeps
`qa.assistant._SUBJECT_MARGIN` over one index, built once with the default model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from common import ROOT, questions  # noqa: F401  (puts the checkout first on sys.path)


def split_of(subject: str) -> str:
    """A fixed half of the subjects, by a hash of the name."""
    return "tune" if hashlib.sha256(subject.encode()).digest()[0] % 2 == 0 else "report"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--split", choices=["tune", "report", "all"], default="report")
    ap.add_argument("--margins", default="", help="comma-separated margins to sweep")
    ap.add_argument("--answers", type=int, default=0, help="questions also answered")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    import qa.assistant as assistant_module
    from qa import Assistant

    corpus = {
        (row := json.loads(line))["id"]: row
        for line in (args.set_dir / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    }
    asked = [
        q
        for q in questions(args.set_dir)
        if args.split == "all" or split_of(q["subject"]) == args.split
    ]
    margins = [float(m) for m in args.margins.split(",") if m] or [
        getattr(assistant_module, "_SUBJECT_MARGIN", 0.0)
    ]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        qa = Assistant(index_dir=Path(tmp) / "index", llm="none")
        qa.ingest([args.set_dir / "corpus.jsonl"])
        for margin in margins:
            assistant_module._SUBJECT_MARGIN = margin  # type: ignore[attr-defined]
            hits: dict[str, list[bool]] = defaultdict(list)
            pairs: dict[str, list[bool]] = defaultdict(list)
            misses = []
            started = time.perf_counter()
            for q in asked:
                first = qa.search(q["question"], 5)[0].doc_id
                ok = first in q["positive_ids"]
                newest = corpus[q["positive_ids"][0]]["lang"]
                hits[q["lang"]].append(ok)
                pairs["same language" if newest == q["lang"] else "other language"].append(ok)
                if not ok:
                    misses.append({"question": q["question"], "first": first})
            seconds = (time.perf_counter() - started) / max(1, len(asked))
            total = [ok for v in hits.values() for ok in v]
            row = {
                "margin": margin,
                "split": args.split,
                "questions": len(total),
                "newest_first": round(sum(total) / max(1, len(total)), 3),
                "by_question_language": {k: round(sum(v) / len(v), 3) for k, v in hits.items()},
                "by_pair": {k: round(sum(v) / len(v), 3) for k, v in pairs.items()},
                "search_s": round(seconds, 3),
                "misses": misses,
            }
            results.append(row)
            print(
                f"margin {margin:.3f}: newest first {row['newest_first']:.3f} "
                f"({sum(total)}/{len(total)}) {row['by_pair']} {row['by_question_language']}"
            )
            for m in misses:
                print(f"   miss: {m['question']}  → {m['first']}")
        if args.answers:
            results.append(answered(Path(tmp) / "index", asked[: args.answers]))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))


def answered(index: Path, asked: list[dict]) -> dict:
    """Whether each answer cites the newest article on its subject first."""
    from qa import Assistant

    qa = Assistant(index_dir=index)
    firsts, abstained, seconds = [], 0, []
    for q in asked:
        started = time.perf_counter()
        answer = qa.ask(q["question"])
        seconds.append(time.perf_counter() - started)
        cited = [c.doc_id for c in answer.citations]
        abstained += answer.abstained
        firsts.append(bool(cited) and cited[0] in q["positive_ids"])
        print(f"   {'ok  ' if firsts[-1] else 'miss'} {q['question']}  → {cited[:2]}")
    row = {
        "answers": len(asked),
        "newest_cited_first": round(sum(firsts) / max(1, len(firsts)), 3),
        "abstained": abstained,
        "answer_s_p50": round(sorted(seconds)[len(seconds) // 2], 2) if seconds else None,
    }
    print(f"answers: newest cited first {sum(firsts)}/{len(firsts)}, abstained {abstained}")
    return row


if __name__ == "__main__":
    main()
