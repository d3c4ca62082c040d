"""An orangesum_fr subset that answers its queries, for `qa eval --corpus`.

    python bench/subset.py ../shared/eval/orangesum_fr --queries 150 [--distractors N] \
        --out SUBSET.jsonl
    qa eval ../shared/eval/orangesum_fr --corpus SUBSET.jsonl --anchor

The first N articles of the archive hold the answers of almost none of its headline
queries (9 of 1,500 for the first 300), so a subset is built around the queries: the
articles of the first N queries, plus N other articles as distractors (or --distractors),
in archive order, written as a reader sees them (see `archive.as_read`). `qa eval` skips
the queries whose article is not in the subset.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from archive import as_read
from common import corpus_lines, questions


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--queries", type=int, default=150)
    ap.add_argument("--distractors", type=int, default=None, help="default: --queries")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    wanted = {d for q in questions(args.set_dir)[: args.queries] for d in q["positive_ids"]}
    others = 0
    kept = 0
    with args.out.open("w", encoding="utf-8") as w:
        for line in corpus_lines(args.set_dir):
            article = json.loads(line)
            if article["id"] not in wanted:
                if others == (args.queries if args.distractors is None else args.distractors):
                    continue
                others += 1
            w.write(json.dumps(as_read(article), ensure_ascii=False) + "\n")
            kept += 1
    print(f"{kept} articles, {len(wanted)} answering the first {args.queries} queries: {args.out}")


if __name__ == "__main__":
    main()
