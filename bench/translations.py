"""Which translations of a quote qa's checks accept: the local model's (labelled faithful
or wrong by reading each against its source) and faithful references, through the
checks a quote's translation meets in `qa.respond` (the question's language, no name the
source lacks, the e5 cosine floor, then the verifier, whole).

    python bench/translations.py [bench/data/translations.jsonl] [--judge] [--out FILE]

`--judge` also has the local model read each pair as the judge reads a kept claim
against its source ("does the source say what the statement says?", P(yes) against
`THRESHOLDS[...].states`): how many of each label it accepts, and its AUC, faithful
(the model's right translations and the references) against wrong.

The set (written for qa, 2026-11-30): 64 news sentences in 11 languages, each with the
model's translation through qa's prompt and a reference, plus the 14 pairs of
`bench/claims.py`. Nothing is tuned on it: it shows that no check qa has tells the
model's right translations from its wrong ones (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
from common import ROOT  # noqa: F401 - puts the checkout first on the path
from judge import auc

from qa import Assistant
from qa.judge import THRESHOLDS
from qa.language import written_in
from qa.respond import TRANSLATION_FLOOR
from qa.types import Passage
from qa.verify import Verifier, invented_names, split_claims


def refusal(a: Assistant, src: str, sl: str, text: str, tl: str) -> str | None:
    """Why the checks refuse `text` as the translation of `src`, or None."""
    text = " ".join(text.split())
    if written_in(text, tl, {sl, "en"}):
        return "language"
    if invented_names(text, src, "", tl):
        return "names"
    e5 = a.models.embedding()

    def vectors(texts: list[str]) -> np.ndarray:
        return np.asarray(e5.passages(texts))

    v = vectors([src, text])
    if float(v[0] @ v[1]) < TRANSLATION_FLOOR:
        return "cosine"
    p = Passage("d", "c", "T", None, "s", sl, src, 0, len(src), 1.0, ((0, len(src)),))
    one = [(p, p.sentence_texts())]
    claims = split_claims(f"{text} [1]", tl)
    verdicts = Verifier(vectors, a._floor(tl)(p)).verify(claims, one, "", None, tl)
    return None if all(v.passage is not None for v in verdicts) else "verifier"


def judge_says(a: Assistant, src: str, text: str) -> float:
    """P(yes) that `src` says what `text` says, read as the judge reads a kept claim."""
    judge = a.models.judge_for(a.models.llm)
    if judge is None or judge.checker is None:
        raise SystemExit("--judge needs the local model and an e5 index's judge")
    return judge.says(" ".join(text.split()), src)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default=str(ROOT / "bench/data/translations.jsonl"))
    parser.add_argument("--out", help="write the figures as JSON here")
    parser.add_argument("--judge", action="store_true", help="the judge's reading too")
    args = parser.parse_args()
    a = Assistant(llm="local" if args.judge else "none")
    counts: Counter[tuple[str, str]] = Counter()
    says: list[tuple[str, float]] = []
    for line in Path(args.data).read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        for kind, label in (("model", r["label"]), ("reference", "reference")):
            if not r.get(kind):
                continue
            why = refusal(a, r["src"], r["src_lang"], r[kind], r["tgt_lang"])
            counts[(label, why or "accepted")] += 1
            if args.judge:
                says.append((label, judge_says(a, r["src"], r[kind])))
    table = {
        label: {why: n for (lab, why), n in sorted(counts.items()) if lab == label}
        for label in ("faithful", "wrong", "reference")
    }
    for label, row in table.items():
        print(f"{label:10s} " + ", ".join(f"{why} {n}" for why, n in row.items()))
    figures: dict[str, object] = {"checks": table}
    if says:
        floor = THRESHOLDS["scorer+generator"].states
        right = [p for label, p in says if label != "wrong"]
        wrong = [p for label, p in says if label == "wrong"]
        figures["judge"] = {
            label: {"pairs": sum(lab == label for lab, _ in says),
                    "accepted": sum(lab == label and p >= floor for lab, p in says)}
            for label in ("faithful", "wrong", "reference")
        }  # fmt: skip
        score = auc(right, wrong)
        figures["judge_auc"] = None if score is None else round(score, 3)
        print(f"the judge (states >= {floor}): {figures['judge']}, AUC {figures['judge_auc']}")
    if args.out:
        Path(args.out).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
