"""A question set in another language, translated by qa's local model.

    python bench/translate_set.py ../shared/eval/orangesum_fr --to en --questions 600 \
        --out /tmp/orangesum_en

Writes OUT/questions.jsonl (the first N questions, translated, with the same ids and
positives; `lang` set to the target) and links OUT's corpus to the set's own, so `qa eval
OUT` and `bench/archive.py OUT` read the same articles with questions in another language.
Greedy decoding, one question at a time; a question the model leaves as it was or
answers with more than one line is kept out and counted. The output is derived from the
set, so it stays outside the project, like the set itself (re-run to rebuild it).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from common import questions

from qa import load_settings
from qa.language import language_name
from qa.llm import load_llm

PROMPT = (
    "Translate this {source} news headline into {target}. Keep names and numbers as they "
    "are. Reply with the translation only, on one line.\n\n{text}"
)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--to", default="en", help="target language code")
    ap.add_argument("--questions", type=int, default=600)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    llm = load_llm(load_settings())
    if llm is None:
        raise SystemExit("no local model (QA_LLM=none?)")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        source = (args.set_dir / name).resolve()
        link = args.out / name
        if source.exists() and not link.exists():
            link.symlink_to(source)
    target = language_name(args.to)
    kept = skipped = 0
    started = time.perf_counter()
    with (args.out / "questions.jsonl").open("w", encoding="utf-8") as out:
        for q in questions(args.set_dir)[: args.questions]:
            source = language_name(q.get("lang") or "fr")
            prompt = PROMPT.format(source=source, target=target, text=q["question"])
            text = str(llm.complete(prompt)).strip().strip('"').strip()
            # Not a language test: a headline full of French names reads as French to a
            # detector ("Valérie Pécresse victim of harassment").
            if not text or "\n" in text or text.casefold() == q["question"].casefold():
                skipped += 1
                print(f"skipped {q['id']}: {text[:80]!r}", flush=True)
                continue
            out.write(
                json.dumps(
                    {**q, "question": text, "lang": args.to, "source_question": q["question"]},
                    ensure_ascii=False,
                )
                + "\n"
            )
            kept += 1
            if kept % 25 == 0:
                rate = (time.perf_counter() - started) / (kept + skipped)
                print(f"{kept} translated, {skipped} skipped, {rate:.1f} s each", flush=True)
    print(f"{kept} translated, {skipped} skipped -> {args.out / 'questions.jsonl'}")


if __name__ == "__main__":
    main()
