"""Countries and territories by their names in the languages qa speaks (CLDR's, read
through Babel): "Allemagne", "Germany", "Niemcy" and "Almanya" name one place, which a
check of names spelt letter by letter cannot see across languages.

Only what one word names is looked up ("Allemagne", "Pays-Bas"); a name of several
words ("Royaume Uni", "United Kingdom") is held when the source gives it in any of
these languages, every word of it.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from qa.language import autonyms


def fold(word: str) -> str:
    """Lower case without accents: how the name checks compare words."""
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()


@cache
def _territories(lang: str) -> dict[str, str]:
    """Place code -> its name in `lang` (none for a language CLDR does not have)."""
    # Imported here: only a translation naming a place the source spells otherwise needs
    # Babel, and every command that imports the verifier (a search too) paid for it.
    from babel import Locale, UnknownLocaleError

    try:
        return dict(Locale.parse({"no": "nb"}.get(lang, lang)).territories)
    except (UnknownLocaleError, ValueError):
        return {}


@cache
def _codes(lang: str) -> dict[str, frozenset[str]]:
    by_name: dict[str, set[str]] = {}
    for code, name in _territories(lang).items():
        if code.isalpha():  # regions such as "150" (Europe) are not places a claim names
            by_name.setdefault(fold(name), set()).add(code)
    return {name: frozenset(codes) for name, codes in by_name.items()}


def same_place(name: str, lang: str, known: set[str]) -> bool:
    """Whether `name`, written in `lang`, is the name of a country or territory that
    the folded words `known` name in a language qa speaks ("Allemagne" and "germany")."""
    codes = _codes(lang).get(fold(name), frozenset())
    for code in codes:
        for other in ("en", *autonyms()):
            words = fold(_territories(other).get(code, "")).split()
            if words and all(w in known for w in words):
                return True
    return False
