"""Templates in prompts/, checked when loaded so a broken file fails at start-up.

One syntax: llama-index `PromptTemplate` f-string placeholders. A template is
`NAME.txt`, or `NAME.LANG.txt` where its text depends on the language (English, or
`NAME.txt`, is the fallback).
"""

from __future__ import annotations

import string
from pathlib import Path

from qa.errors import PromptError

REQUIRED: dict[str, frozenset[str]] = {
    "no_answer": frozenset({"question"}),
    "answer_system": frozenset(),
    "answer": frozenset({"passages", "question", "language"}),
    "judge_system": frozenset(),
    "judge_one": frozenset({"question", "passage"}),
    "check_system": frozenset(),
    "check_claim": frozenset({"source", "claim"}),
    "condense": frozenset({"history", "question"}),
    "translate": frozenset({"sentence", "source", "language"}),
}
FALLBACK_LANG = "en"


class Prompts:
    """The templates of one folder, all read and checked up front."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._texts: dict[tuple[str, str | None], str] = {}
        for path in sorted(folder.glob("*.txt")):
            name, _, lang = path.stem.partition(".")
            if name in REQUIRED:
                self._texts[(name, lang or None)] = self._check(path, name)
        for name in REQUIRED:
            if (name, None) not in self._texts and (name, FALLBACK_LANG) not in self._texts:
                raise PromptError(f"{folder / (name + '.txt')}: missing prompt template.")

    @staticmethod
    def _check(path: Path, name: str) -> str:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise PromptError(f"{path}: cannot read the template ({e}).") from None
        try:
            found = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        except ValueError as e:
            raise PromptError(f"{path}: malformed placeholder ({e}).") from None
        missing = REQUIRED[name] - found
        unknown = found - REQUIRED[name]
        if missing or unknown:
            problems = []
            if missing:
                problems.append(f"needs {{{', '.join(sorted(missing))}}}")
            if unknown:
                problems.append(f"unknown {{{', '.join(sorted(unknown))}}}")
            raise PromptError(f"{path}: {'; '.join(problems)}.")
        return text

    def render(self, name: str, lang: str | None = None, **values: str) -> str:
        from llama_index.core.prompts import PromptTemplate

        text = (
            self._texts.get((name, lang))
            or self._texts.get((name, FALLBACK_LANG))
            or self._texts[(name, None)]
        )
        return str(PromptTemplate(text).format(**values))  # type: ignore[arg-type]
