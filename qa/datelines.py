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


def _forms(names: tuple[str, ...]) -> dict[str, int]:
    """A language's ways of writing each month: its name, and every abbreviation of three
    letters or more that is no other month's ("Nov.", "Sept.", "janv.", "Okt."; not
    French "jui", both juin and juillet)."""
    forms = {name: i for i, name in enumerate(names, start=1)}
    prefixes: dict[str, set[int]] = {}
    for name, i in forms.items():
        for end in range(3, len(name)):
            prefixes.setdefault(name[:end], set()).add(i)
    for prefix, months in prefixes.items():
        if len(months) == 1 and prefix not in forms:
            forms[prefix] = next(iter(months))
    return forms


def _month_table() -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Month names every language reads alike, and per language those it reads its own
    way. Abbreviations are read in their own language only: pooled, the Norwegian
    "des." made the French "dès" a December ("Crit'Air 3 dès 2022")."""
    seen: dict[str, set[int]] = {}
    for names in _MONTHS.values():
        for i, name in enumerate(names, start=1):
            seen.setdefault(name, set()).add(i)
    shared = {name: next(iter(months)) for name, months in seen.items() if len(months) == 1}
    own = {
        lang: {form: i for form, i in _forms(names).items() if form not in shared}
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


def _plain(word: str) -> str:
    """Lower case without accents, as the month tables hold names."""
    decomposed = unicodedata.normalize("NFKD", word.lower().replace("ı", "i"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _month(word: str, lang: str | None) -> str:
    key = _plain(word)
    month = _OWN.get(lang or "", {}).get(key) or _SHARED.get(key)
    return str(month) if month else ""


def is_month(word: str, lang: str | None) -> bool:
    """Whether `word` names a month (or abbreviates one) as `lang` writes it."""
    return bool(_month(word, lang))


def _iso(year: str, month: str, day: str) -> str:
    try:
        found = date(int(year), int(month), int(day))
    except ValueError:  # not a date ("31.02.2026", a month name not known)
        return ""
    return found.isoformat() if 1900 <= found.year <= 2100 else ""


# How each language writes a date with its month's name, for an answer's sentence: the
# model copies "July 14, 2026" into Polish or "22 de julio de 2026" into Portuguese.
_WRITTEN: dict[str, tuple[str, str]] = {
    "en": (
        "{d} {m} {y}",
        "January February March April May June July August September October November December",
    ),
    "fr": (
        "{d} {m} {y}",
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    ),
    "de": (
        "{d}. {m} {y}",
        "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    ),
    "es": (
        "{d} de {m} de {y}",
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    ),
    "it": (
        "{d} {m} {y}",
        "gennaio febbraio marzo aprile maggio giugno luglio agosto "
        "settembre ottobre novembre dicembre",
    ),
    "pt": (
        "{d} de {m} de {y}",
        "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    ),
    "nl": (
        "{d} {m} {y}",
        "januari februari maart april mei juni juli augustus september oktober november december",
    ),
    "pl": (
        "{d} {m} {y}",
        "stycznia lutego marca kwietnia maja czerwca lipca sierpnia "
        "września października listopada grudnia",
    ),
    "sv": (
        "{d} {m} {y}",
        "januari februari mars april maj juni juli augusti september oktober november december",
    ),
    "da": (
        "{d}. {m} {y}",
        "januar februar marts april maj juni juli august september oktober november december",
    ),
    "no": (
        "{d}. {m} {y}",
        "januar februar mars april mai juni juli august september oktober november desember",
    ),
    "cs": (
        "{d}. {m} {y}",
        "ledna února března dubna května června července srpna září října listopadu prosince",
    ),
    "ro": (
        "{d} {m} {y}",
        "ianuarie februarie martie aprilie mai iunie iulie august "
        "septembrie octombrie noiembrie decembrie",
    ),
    "fi": (
        "{d}. {m} {y}",
        "tammikuuta helmikuuta maaliskuuta huhtikuuta toukokuuta "
        "kesäkuuta heinäkuuta elokuuta syyskuuta lokakuuta marraskuuta joulukuuta",
    ),
    "hu": (
        "{y}. {m} {d}.",
        "január február március április május június július augusztus "
        "szeptember október november december",
    ),
    "tr": (
        "{d} {m} {y}",
        "Ocak Şubat Mart Nisan Mayıs Haziran Temmuz Ağustos Eylül Ekim Kasım Aralık",
    ),
    "ru": (
        "{d} {m} {y}",
        "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    ),
    "uk": (
        "{d} {m} {y}",
        "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня",
    ),
}


def dates_as_written(text: str, lang: str, source: str, source_lang: str | None = None) -> str:
    """`text` with each whole date its `source` states and `text` writes with another
    language's month name ("14 July 2026" in a Polish sentence) written as `lang` writes
    dates ("14 lipca 2026"). Only a date the source gives is touched, so a date is never
    turned into another; a language with no table here is left as written."""
    if lang not in _WRITTEN:
        return text
    form, names = _WRITTEN[lang]
    months = names.split()
    own = {_plain(name) for name in months}
    stated = {iso for _, _, iso in _dates(source, source_lang)}
    for start, end, iso in reversed(_dates(text, lang)):
        words = re.findall(r"[^\W\d_]+", text[start:end])
        if iso not in stated or not words or all(_plain(w) in own for w in words):
            continue  # not from the source, written with digits, or in `lang` already
        year, month, day = (int(part) for part in iso.split("-"))
        written = form.format(d=day, m=months[month - 1], y=year)
        text = text[:start] + written + text[end:]
    return text


# "VELMORA, November 18, 2026 – ", "HARLOW BAY – ": a place in capitals, perhaps a date,
# then a dash.
_LEADING = re.compile(r"\s*([^\W\d_](?:[^\W\d_]|[ '’.-])*?)\s*(,[^–—\n]{1,40}?)?\s+[–—-]\s+(?=\w)")


def without_dateline(sentence: str, source: str) -> str:
    """`sentence` without the dateline it opens with when it is its `source`'s: the model
    copies an article's "VELMORA, 18 november 2026 –" into the answer it writes from the
    article's first sentence. A place in capitals the source does not write, or a dash
    not followed by a capital ("NASA – the agency said"), is left."""
    m = _LEADING.match(sentence)
    if not m or not m.group(1).isupper() or len(m.group(1)) < 3 or m.group(1) not in source:
        return sentence
    if m.group(2) and not re.search(r"\d", m.group(2)):
        return sentence  # "PARIS, Texas – …": no date, not a dateline
    rest = sentence[m.end() :]
    return rest if rest[:1].isupper() else sentence
