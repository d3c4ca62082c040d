"""The words qa shows around an answer (its stages, titles and notes), in the question's
language.

`prompts/interface.LANG.txt` holds them, one `key = text` a line; a language with no
file gets the English text. Unlike refusals, they are not left to the local model to
translate: asked to, the 1.5B model wrote four of five languages with placeholders lost
or lines dropped (Turkish, Romanian, Korean, Vietnamese), and its Indonesian, which
passed the checks, read "(in the article that states it so, in German: no check)".
"""

from __future__ import annotations

import re

from qa.language import autonym, language_name
from qa.prompts import Prompts, fill

NAME = "interface"
_LINE = re.compile(r"^\s*(\w+)\s*=\s*(.+?)\s*$")


def parse(text: str) -> dict[str, str]:
    """`key = text` lines; blank lines and `#` comments skipped."""
    pairs = (_LINE.match(line) for line in text.splitlines() if not line.lstrip().startswith("#"))
    return {m.group(1): m.group(2) for m in pairs if m}


class Words:
    """The interface texts of one language, English for any key it lacks."""

    def __init__(self, lang: str, texts: dict[str, str], english: dict[str, str]):
        self.lang = lang
        self._texts = texts
        self._english = english
        # The engine names its stages in English ("reading the passages"); shown in
        # the question's language through the English file's key for that text.
        self._keys = {text: key for key, text in english.items()}

    def __call__(self, key: str, **values: object) -> str:
        text = self._texts.get(key) or self._english[key]
        return fill(text, **{k: str(v) for k, v in values.items()}) if values else text

    def status(self, status: str) -> str:
        """A kept claim's status ("verified", "moved", "added") for the reader."""
        key = f"claim_{status}"
        return self._texts.get(key) or self._english.get(key) or status

    def stage(self, name: str) -> str:
        key = self._keys.get(name)
        return self(key) if key else name

    def languages(self, codes: set[str]) -> str:
        """Language names as this language's reader reads them: English names in
        English, each language's own name elsewhere ("lingua: Deutsch")."""
        name = autonym if self._texts != self._english else language_name
        return ", ".join(sorted(name(code) for code in codes))


def words(prompts: Prompts, lang: str) -> Words:
    """The interface in `lang`, English where it has no file."""
    english = parse(prompts.template(NAME, "en"))
    return Words(lang, parse(prompts.template(NAME, lang)), english)
