"""Templates in prompts/, checked when loaded so a broken file fails at start-up.

One syntax: llama-index `PromptTemplate` f-string placeholders. A template is
`NAME.txt`, or `NAME.LANG.txt` where its text depends on the language (English, or
`NAME.txt`, is the fallback).
"""

from __future__ import annotations

import hashlib
import os
import string
from collections.abc import Callable
from pathlib import Path

from qa.config import cache_dir
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
    "interface": frozenset({"count", "languages", "text"}),
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
            found = set(_placeholders(text))
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
        """The template `name` in `lang` (else English), filled with `values`."""
        return fill(self.template(name, lang), **values)

    def template(
        self, name: str, lang: str | None = None, translate: Callable[[str], str] | None = None
    ) -> str:
        """The template `name` in `lang`. A language with no file of its own gets the
        English template translated once by `translate` (the generator) and kept in the
        cache folder; without `translate`, the English text."""
        text = self._texts.get((name, lang)) or self._translated(name, lang, translate)
        return text or self._texts.get((name, FALLBACK_LANG)) or self._texts[(name, None)]

    def _translated(
        self, name: str, lang: str | None, translate: Callable[[str], str] | None
    ) -> str | None:
        english = self._texts.get((name, FALLBACK_LANG)) or self._texts.get((name, None))
        if lang is None or lang == FALLBACK_LANG or english is None:
            return None
        # Named by the English text's hash: editing the template translates it again.
        digest = hashlib.sha256(english.encode("utf-8")).hexdigest()[:12]
        cached = cache_dir() / "prompts" / f"{name}.{lang}.{digest}.txt"
        if cached.is_file():
            try:
                return self._check(cached, name)
            except PromptError:
                cached.unlink(missing_ok=True)
        if translate is None:
            return None
        text = translate(english).strip()
        try:
            found = _placeholders(text)
        except ValueError:  # a stray brace in the translation
            return None
        if sorted(found) != sorted(REQUIRED[name]):  # a placeholder lost or invented
            return None
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}")
            partial.write_text(text + "\n", encoding="utf-8")
            partial.replace(cached)
        except OSError:
            pass  # a read-only cache: translated again next time
        return text


def fill(template: str, **values: str) -> str:
    from llama_index.core.prompts import PromptTemplate

    return str(PromptTemplate(template).format(**values))  # type: ignore[arg-type]


def _placeholders(text: str) -> list[str]:
    """The placeholders of a template, in order; ValueError when one is malformed."""
    return [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
