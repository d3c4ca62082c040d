"""SQuAD 2.0 dev, second half of its articles, as an eval set of ../shared/eval's layout.

    python bench/squad2.py dev-v2.0.json OUT_DIR

SQuAD 2.0 (CC BY-SA 4.0, rajpurkar.github.io/SQuAD-explorer) has questions written to
look answerable from a paragraph that does not answer them. Only the articles of the
second half of the dev file (the 19th of 35 onward) are written: the first half is kept
aside for an independent check. Each paragraph is a passage `squad2-AA-PPP` (AA the
article's place in the dev file, PPP the paragraph's in its article); a question names
its paragraph in `positive_ids` and says `"answerable": false` when SQuAD 2.0 marks it
impossible. Benchmarks tune on even-numbered articles and report on odd ones.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FIRST_KEPT = 18  # 0-based: the 19th of 35 (past the middle, whichever way 35 halves)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("dev", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    data = json.loads(args.dev.read_text(encoding="utf-8"))["data"]
    args.out.mkdir(parents=True, exist_ok=True)
    corpus, questions = [], []
    for a, article in enumerate(data):
        if a < FIRST_KEPT:
            continue
        for p, para in enumerate(article["paragraphs"]):
            pid = f"squad2-{a:02d}-{p:03d}"
            title = article["title"].replace("_", " ")
            corpus.append({"id": pid, "title": title, "text": para["context"], "lang": "en"})
            for qa in para["qas"]:
                questions.append(
                    {
                        "id": qa["id"],
                        "question": qa["question"],
                        "lang": "en",
                        "answers": sorted({x["text"] for x in qa["answers"]}),
                        "positive_ids": [pid],
                        "answerable": not qa.get("is_impossible", False),
                    }
                )
    for name, rows in (("corpus.jsonl", corpus), ("questions.jsonl", questions)):
        with (args.out / name).open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    impossible = sum(not q["answerable"] for q in questions)
    print(f"{len(corpus)} passages, {len(questions)} questions ({impossible} unanswerable)")


if __name__ == "__main__":
    main()
