"""Helpers the benchmarks share: eval-set files, percentiles, result files."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def corpus_lines(set_dir: Path) -> Iterator[str]:
    """The raw JSONL lines of a set's corpus (plain or gzipped)."""
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        path = set_dir / name
        if path.exists():
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as f:
                yield from f
            return
    raise SystemExit(f"{set_dir}: no corpus.jsonl")


def questions(set_dir: Path) -> list[dict[str, Any]]:
    with (set_dir / "questions.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def write_result(result: dict[str, Any], out: Path | None, default_name: str) -> None:
    print(json.dumps(result, indent=2))
    path = out or ROOT / "bench" / "results" / default_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
