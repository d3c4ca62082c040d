"""Language detection on short questions: accuracy per language, qa's detector against
py3langid alone and against qa 0.1's (seven languages).

    python bench/langid.py bench/data/short_questions.jsonl --out results/langid.json

bench/data/short_questions.jsonl: 15 questions in each of 20 languages, 2 to 15 words,
half with names and numbers, written for qa (not from any public set). Nothing in qa was
fitted on it: the question words of `qa.language` are lists of each language's
interrogatives and function words.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from common import ROOT  # noqa: F401  (puts the checkout first on sys.path)

OLD_LANGUAGES = ["en", "fr", "de", "es", "it", "nl", "pt"]


def detectors() -> dict[str, Callable[[str], str]]:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from qa import language

    every = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    seven = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    seven.set_languages(OLD_LANGUAGES)
    old_cues = {k: v for k, v in language._CUES.items() if k in OLD_LANGUAGES}

    def qa_0_1(text: str) -> str:
        words = [w.lower() for w in language._WORD.findall(text)]
        if len(words) <= language._SHORT:
            votes = {lang: sum(w in cues for w in words) for lang, cues in old_cues.items()}
            best = max(votes.values())
            winners = [lang for lang, v in votes.items() if v == best]
            if best > 0 and len(winners) == 1:
                return winners[0]
        return str(seven.classify(text)[0])

    return {
        "qa 0.1 (7 languages, its method)": qa_0_1,
        "py3langid, all 142 classes": lambda t: str(every.classify(t)[0]),
        "qa (90 languages)": language.detect_language,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("questions", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines()]
    langs = list(dict.fromkeys(r["lang"] for r in rows))
    results = {}
    for name, detect in detectors().items():
        detect("warm up")
        right: dict[str, int] = defaultdict(int)
        wrong: dict[str, list[str]] = defaultdict(list)
        started = time.perf_counter()
        for r in rows:
            got = detect(r["question"])
            if got == r["lang"]:
                right[r["lang"]] += 1
            else:
                wrong[r["lang"]].append(f"{r['question']} → {got}")
        ms = 1000 * (time.perf_counter() - started) / len(rows)
        per = {lang: right[lang] / sum(r["lang"] == lang for r in rows) for lang in langs}
        results[name] = {
            "accuracy": round(sum(right.values()) / len(rows), 3),
            "by_language": {k: round(v, 3) for k, v in per.items()},
            "ms_per_question": round(ms, 3),
            "errors": dict(wrong),
        }
        print(f"{name}: {results[name]['accuracy']:.3f} ({ms:.2f} ms a question)")
    print("lang " + " ".join(f"{n[:18]:>18}" for n in results))
    for lang in langs:
        print(f"{lang:4} " + " ".join(f"{r['by_language'][lang]:>18.2f}" for r in results.values()))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
