"""Language of a text, as an ISO 639-1 code, offline (py3langid's bundled model)."""

from __future__ import annotations

import functools
import re
from typing import Any

LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt")

# A character n-gram model guesses poorly on three-word questions ("Who is Breuker?"
# comes out Dutch); question and function words settle those.
_CUES: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "what who whom whose why how when where which is are was were does do did "
        "the and of to in think",
        "fr": "que qui quoi pourquoi comment quand où quel quelle quels est sont le la les "
        "des du et pense il elle",
        "de": "was wer wen warum wie wann wo welche welcher ist sind der die das und denkt "
        "den dem nicht",
        "es": "qué quién quiénes por cómo cuándo dónde cuál es son el los las del y piensa",
        "it": "che chi perché come quando dove quale è sono il gli della e pensa",
        "nl": "wat wie waarom hoe wanneer waar welke het een zijn denkt niet",
        "pt": "que quem porque como quando onde qual é são os as do da e pensa não",
    }.items()
}
_WORD = re.compile(r"[^\W\d_]+")
_SHORT = 8


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGUAGES))
    return ident


def _by_cues(words: list[str]) -> str | None:
    votes = {lang: sum(w in cues for w in words) for lang, cues in _CUES.items()}
    best = max(votes.values())
    winners = [lang for lang, v in votes.items() if v == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def detect_language(text: str, default: str = "en") -> str:
    """The most likely language of `text` among LANGUAGES; `default` for text with no letters."""
    sample = text[:2000]
    words = [w.lower() for w in _WORD.findall(sample)]
    if not words:
        return default
    if len(words) <= _SHORT and (lang := _by_cues(words)) is not None:
        return lang
    lang, _ = _identifier().classify(sample)
    return str(lang)


_NAMES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
}


def language_name(code: str) -> str:
    """The English name of a language code, for prompts."""
    return _NAMES.get(code, code)


def first_word(text: str, start: int) -> bool:
    """Whether the word at `start` opens `text` (capitalised for that alone, so not a
    name), past any opening punctuation ("¿Cuánto", "« Pourquoi")."""
    return not any(ch.isalnum() for ch in text[:start])
