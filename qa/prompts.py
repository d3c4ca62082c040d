"""Templates in prompts/, checked when loaded so a broken file fails at start-up.

One syntax: llama-index `PromptTemplate` f-string placeholders. A template exists per
language as `NAME.LANG.txt`; English is the fallback.
"""

from __future__ import annotations

import functools
import string
from pathlib import Path

from qa.errors import PromptError

REQUIRED: dict[str, frozenset[str]] = {"no_answer": frozenset({"question"})}
FALLBACK_LANG = "en"


class Prompts:
    """The templates of one folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        for name in REQUIRED:
            self._load(name, FALLBACK_LANG)
        for path in sorted(folder.glob("*.txt")):
            name, _, lang = path.stem.partition(".")
            if name in REQUIRED and lang:
                self._load(name, lang)

    @functools.cache  # noqa: B019 - one instance per assistant, templates never change
    def _load(self, name: str, lang: str) -> str | None:
        path = self.folder / f"{name}.{lang}.txt"
        if not path.is_file():
            if lang == FALLBACK_LANG:
                raise PromptError(f"{path}: missing prompt template.")
            return None
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise PromptError(f"{path}: cannot read the template ({e}).") from None
        try:
            found = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        except ValueError as e:
            raise PromptError(f"{path}: malformed placeholder ({e}).") from None
        missing = REQUIRED[name] - found
        unknown = found - REQUIRED[name]
        if missing or unknown:
            problem = f"needs {{{', '.join(sorted(missing))}}}" if missing else ""
            if unknown:
                problem += ("; " if problem else "") + f"unknown {{{', '.join(sorted(unknown))}}}"
            raise PromptError(f"{path}: {problem}.")
        return text

    def render(self, name: str, lang: str, **values: str) -> str:
        from llama_index.core.prompts import PromptTemplate

        text = self._load(name, lang) or self._load(name, FALLBACK_LANG)
        assert text is not None  # the fallback was checked in __init__
        return str(PromptTemplate(text).format(**values))  # type: ignore[arg-type]
