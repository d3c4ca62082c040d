"""An article's date from its dateline, when nothing else gives one.

A plain-text or Markdown article without front matter, or a web page without a date
tag, often opens with a dateline: "PORTO, 20 listopada 2026 r.", "SEVILLA, 22 de julio de
2026.", "MORVENNI, 4 March 2026 –", "2026年11月15日". Without a date such an article ranks
last for "the latest on X", however new it is. Only the article's opening is read (a date
further on is what the article is about, not when it was written), and only a whole date:
a day, a month and a year.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_OPENING = 300  # characters of the text a dateline may be in

# Month names as datelines write them (genitive where the language declines them),
# lower-cased without accents. Croatian "listopada" is October, Polish and
# Czech "listopad" November: a word two languages give different months is read in the
# article's language only.
_MONTHS: dict[str, tuple[str, ...]] = {
    "en": tuple(
        "january february march april may june "
        "july august september october november december".split()
    ),
    "fr": tuple(
        "janvier fevrier mars avril mai juin "
        "juillet aout septembre octobre novembre decembre".split()
    ),
    "de": tuple(
        "januar februar marz april mai juni juli august september oktober november dezember".split()
    ),
    "es": tuple(
        "enero febrero marzo abril mayo junio "
        "julio agosto septiembre octubre noviembre diciembre".split()
    ),
    "it": tuple(
        "gennaio febbraio marzo aprile maggio giugno "
        "luglio agosto settembre ottobre novembre dicembre".split()
    ),
    "pt": tuple(
        "janeiro fevereiro marco abril maio junho "
        "julho agosto setembro outubro novembro dezembro".split()
    ),
    "nl": tuple(
        "januari februari maart april mei juni "
        "juli augustus september oktober november december".split()
    ),
    "sv": tuple(
        "januari februari mars april maj juni "
        "juli augusti september oktober november december".split()
    ),
    "da": tuple(
        "januar februar marts april maj juni "
        "juli august september oktober november december".split()
    ),
    "no": tuple(
        "januar februar mars april mai juni juli august september oktober november desember".split()
    ),
    "pl": tuple(
        "stycznia lutego marca kwietnia maja czerwca "
        "lipca sierpnia wrzesnia pazdziernika listopada grudnia".split()
    ),
    "cs": tuple(
        "ledna unora brezna dubna kvetna cervna "
        "cervence srpna zari rijna listopadu prosince".split()
    ),
    "hr": tuple(
        "sijecnja veljace ozujka travnja svibnja lipnja "
        "srpnja kolovoza rujna listopada studenoga prosinca".split()
    ),
    "fi": tuple(
        "tammikuuta helmikuuta maaliskuuta huhtikuuta toukokuuta kesakuuta "
        "heinakuuta elokuuta syyskuuta lokakuuta marraskuuta joulukuuta".split()
    ),
    "hu": tuple(
        "januar februar marcius aprilis majus junius "
        "julius augusztus szeptember oktober november december".split()
    ),
    "ro": tuple(
        "ianuarie februarie martie aprilie mai iunie "
        "iulie august septembrie octombrie noiembrie decembrie".split()
    ),
    "tr": tuple(
        "ocak subat mart nisan mayis haziran temmuz agustos eylul ekim kasim aralik".split()
    ),
    "ru": tuple(
        "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split()
    ),
    "uk": tuple(
        "січня лютого березня квітня травня червня "
        "липня серпня вересня жовтня листопада грудня".split()
    ),
    "el": tuple(
        "ιανουαριου φεβρουαριου μαρτιου απριλιου μαιου ιουνιου "
        "ιουλιου αυγουστου σεπτεμβριου οκτωβριου νοεμβριου δεκεμβριου".split()
    ),
}


def _month_table() -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Month names every language reads alike, and per language those it reads its own way."""
    seen: dict[str, set[int]] = {}
    for names in _MONTHS.values():
        for i, name in enumerate(names, start=1):
            seen.setdefault(name, set()).add(i)
    shared = {name: next(iter(months)) for name, months in seen.items() if len(months) == 1}
    own = {
        lang: {n: i for i, n in enumerate(names, start=1) if n not in shared}
        for lang, names in _MONTHS.items()
    }
    return shared, own


_SHARED, _OWN = _month_table()
_WORD = r"([^\W\d_]+)\.?"
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})\.?\s+(?:de\s+)?{_WORD}\s+(?:de\s+)?(\d{{4}})\b")
_MONTH_DAY_YEAR = re.compile(rf"\b{_WORD}\s+(\d{{1,2}}),?\s+(\d{{4}})\b")
_YEAR_MONTH_DAY = re.compile(rf"\b(\d{{4}})\.\s+{_WORD}\s+(\d{{1,2}})\b")  # Hungarian
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_CJK = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")
_DOTTED = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
# Each form and where its year, month and day are.
_PATTERNS = (
    (_ISO, (1, 2, 3)),
    (_CJK, (1, 2, 3)),
    (_DOTTED, (3, 2, 1)),
    (_DAY_MONTH_YEAR, (3, 2, 1)),
    (_MONTH_DAY_YEAR, (3, 1, 2)),
    (_YEAR_MONTH_DAY, (1, 2, 3)),
)


def dateline(text: str, lang: str | None = None) -> str | None:
    """The first whole date in `text`'s opening, as YYYY-MM-DD, or None."""
    found = _dates(text[:_OPENING], lang)
    return found[0][2] if found else None


def dateless(text: str, lang: str | None = None) -> str:
    """`text` without its whole dates: what a sentence says besides when ("SEVILLA, 22 de
    julio de 2026." says nothing else)."""
    for start, end, _ in reversed(_dates(text, lang)):
        text = text[:start] + text[end:]
    return text


def _dates(text: str, lang: str | None) -> list[tuple[int, int, str]]:
    """(start, end, YYYY-MM-DD) of each whole date in `text`, in order, none overlapping."""
    found: list[tuple[int, int, str]] = []
    for pattern, order in _PATTERNS:
        for m in pattern.finditer(text):
            year, month, day = (m.group(i) for i in order)
            if not month.isdigit():
                month = _month(month, lang)
            day_iso = _iso(year, month, day)
            if day_iso and all(m.end() <= s or m.start() >= e for s, e, _ in found):
                found.append((m.start(), m.end(), day_iso))
    return sorted(found)


def _month(word: str, lang: str | None) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower().replace("ı", "i"))
    key = "".join(c for c in decomposed if not unicodedata.combining(c))
    month = _OWN.get(lang or "", {}).get(key) or _SHARED.get(key)
    return str(month) if month else ""


def _iso(year: str, month: str, day: str) -> str:
    try:
        found = date(int(year), int(month), int(day))
    except ValueError:  # not a date ("31.02.2026", a month name not known)
        return ""
    return found.isoformat() if 1900 <= found.year <= 2100 else ""
