"""Are answers written in the question's language? Read from a `bench/answers.py` result.

    python bench/answer_language.py RESULT.json [RESULT.json ...]

For each answer that is not an abstention: the language of the question (as qa detects
it) against the language of each answer sentence, judged on its words without names,
numbers and markers (`qa.language.written_in`, every language a suspect); an answer is
right when every sentence of three such words or more is in the question's language.
Prints the share per question language and overall, and lists the wrong ones.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

from common import ROOT  # noqa: F401  (puts the checkout first on sys.path)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("results", type=Path, nargs="+")
    args = ap.parse_args()

    from qa.language import LANGUAGES, detect_language, written_in

    every = set(LANGUAGES)
    right: dict[str, list[bool]] = defaultdict(list)
    for path in args.results:
        for row in json.loads(path.read_text(encoding="utf-8"))["rows"]:
            if row["abstained"]:
                continue
            lang = detect_language(row["question"])
            text = re.sub(r"\[\d+(?:[,;]\s*\d+)*\]", "", row["answer"])
            sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
            wrong = [s for s in sentences if written_in(s, lang, every - {lang})]
            right[lang].append(not wrong)
            if wrong:
                print(f"{lang}: {row['question']}\n    {wrong[0][:150]}")
    total = [ok for v in right.values() for ok in v]
    print(
        "in the question's language:",
        f"{sum(total)}/{len(total)} = {sum(total) / max(1, len(total)):.3f};",
        ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(right.items())),
    )


if __name__ == "__main__":
    main()
