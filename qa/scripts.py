"""A name across scripts: what an article in one script and a question in another
share when they write the same name ("Saltrevo", "Сальтрево", "サルトレボ", "살트레보").

Two readings: `latin`, Cyrillic and Greek letter by letter (close to how the Latin
alphabet writes them); `sounds`, the name's consonants in coarse classes, which is what
survives a name's trip into kana, Hangul, Arabic, Hebrew or Devanagari: those add
vowels (Japanese), drop them (Arabic), and merge l with r, v with b, k with g. Chinese
characters write a name by syllables chosen for their sound too, but with no table of
them here: a Chinese question finds its names only when written in Latin letters.
"""

from __future__ import annotations

import re
import unicodedata

from qa.lexical import fold

# Cyrillic and Greek letters as Latin writes them ("Сальтрево" is Saltrevo, "Σορράδα"
# Sorrada).
_LATIN = str.maketrans(
    {
        **dict(zip("абвгґдезиіїйклмнопрстуфыэ", "abvggdeziiiiklmnoprstufye", strict=True)),
        **{"ё": "e", "є": "ye", "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh"},
        **{"щ": "shch", "ъ": "", "ь": "", "ю": "yu", "я": "ya"},
        **dict(zip("αβγδεζηικλμνξοπρσςτυφω", "avgdeziiklmnxoprsstyfo", strict=True)),
        **{"θ": "th", "χ": "ch", "ψ": "ps"},
        # Persian writes kaf and yeh its own way: "کالدورا" is the Arabic "كالدورا".
        **{"ک": "ك", "ی": "ي", "ى": "ي"},
    }
)

# Consonant classes: b (b p f v), k (k g c q), t (t d), r (l r), n (m n), s (s z j and
# the "sh"/"ch"/"ts" family). Vowels, h, w and y are dropped: kana and Hangul add or
# change vowels, Arabic and Hebrew mostly leave them out.
_CLASS = str.maketrans(
    {
        **dict.fromkeys("bpfv", "b"),
        **dict.fromkeys("kgcq", "k"),
        **dict.fromkeys("td", "t"),
        **dict.fromkeys("lr", "r"),
        **dict.fromkeys("mn", "n"),
        **dict.fromkeys("szj", "s"),
        **dict.fromkeys("aeiouyhw", ""),
    }
)
_DIGRAPHS = (
    (re.compile(r"c(?=[eiy])"), "s"),
    # "ts" stays two: kana write it ツ (t, s), and Greek and Russian τσ, тс.
    (re.compile(r"sch|sh|ch|zh|kh"), lambda m: {"kh": "h"}.get(m.group(0), "s")),
    (re.compile(r"ph"), "f"),
    (re.compile(r"x"), "ks"),
)


def _table(rows: dict[str, str]) -> dict[str, str]:
    return {ch: cls for chars, cls in rows.items() for ch in chars}


# Katakana by consonant (hiragana are read as katakana first). ツ is "tsu", チ "chi",
# シ "shi", フ "fu"; small kana, ー and ッ lengthen or double, which classes ignore.
_KANA = _table(
    {
        "カキクケコガギグゲゴ": "k",
        "サシスセソザジズゼゾチヂヅ": "s",
        "タテトダデド": "t",
        "ツ": "ts",
        "ナニヌネノンマミムメモ": "n",
        "ハヒヘホ": "",
        "フバビブベボパピプペポヴ": "b",
        "ラリルレロ": "r",
        "アイウエオヤユヨワヲャュョァィゥェォッー・": "",
    }
)
# Hangul syllables: initial, vowel and final jamo by arithmetic (Unicode's layout).
_INITIAL = [
    "k", "k", "n", "t", "t", "r", "n", "b", "b", "s", "s", "", "s", "s", "s", "k", "t", "b", "",
]  # fmt: skip
_FINAL = [
    "", "k", "k", "ks", "n", "ns", "n", "t", "r", "rk", "rn", "rb", "rs", "rt", "rb", "r",
    "n", "b", "bs", "s", "s", "nk", "s", "s", "k", "t", "b", "",
]  # fmt: skip
_ABJAD = _table(
    {
        # Arabic and Persian
        "بپفڤ": "b",
        "كکگقغخ": "k",
        "تدطض": "t",
        "رل": "r",
        "من": "n",
        "سشصزذثظجچژ": "s",
        # Hebrew (ו is v or a vowel; read as a vowel)
        "בפף": "b",
        "גכךקח": "k",
        "דטת": "t",
        "לר": "r",
        "מםנן": "n",
        "זסצץש": "s",
        # Devanagari consonants (vowel letters and signs drop out below)
        "कखगघ": "k",
        "चछजझश": "s",
        "षस": "s",
        "टठडढतथदध": "t",
        "ङञणनमं": "n",
        "पफबभव": "b",
        "रल": "r",
    }
)
_SCRIPTED = re.compile(r"[\u0590-\u06ff\u0900-\u097f\u3040-\u30ff\uac00-\ud7a3]+")
_KATAKANA_RUN = re.compile(r"[\u30a0-\u30ff]{2,}")
_PREFIXED = re.compile(r"^(?:[בהוכלמש]|[وبلفك]?ال|[وبلفك])")


def latin(name: str) -> str:
    """`name` in Latin letters when it is written in Cyrillic or Greek (folded, as the
    lexical index folds terms), Persian in Arabic letters, else itself folded."""
    return fold(name).translate(_LATIN)


def sounds(word: str) -> str:
    """The consonants of `word` in coarse classes, repeats merged, whatever its script
    ("Saltrevo", "サルトレボ", "살트레보", "سالتريفو": "srtrb")."""
    out: list[str] = []
    letters: list[str] = []  # a run of Latin letters, read by its digraphs when it ends

    def flush() -> None:
        text = "".join(letters)
        for pattern, repl in _DIGRAPHS:
            text = pattern.sub(repl, text)
        out.append(text)
        letters.clear()

    # Hebrew writes a foreign v as a double vav (one vav is a vowel).
    for ch in unicodedata.normalize("NFC", word).replace("וו", "ב"):
        if "\uac00" <= ch <= "\ud7a3":
            n = ord(ch) - 0xAC00
            flush()
            out.append(_INITIAL[n // 588] + _FINAL[n % 28])
        elif "\u3041" <= ch <= "\u3096" or ch in _KANA:
            flush()
            out.append(_KANA.get(chr(ord(ch) + 0x60) if ch <= "\u3096" else ch, ""))
        elif ch in _ABJAD:
            flush()
            out.append(_ABJAD[ch])
        elif ch in "χхΧХ":
            letters.append("h")  # Greek and Russian write a foreign h so (Χελιάντρα, Хельсинки)
        else:
            letters.extend(c for c in latin(ch) if c.isascii() and c.isalpha())
        # Other letters (vowel signs, Chinese) say nothing here.
    flush()
    text = "".join(out)
    return re.sub(r"(.)\1+", r"\1", text.translate(_CLASS))


def script(word: str) -> str:
    """The script `word` is written in, by its first letter: "LATIN", "CYRILLIC",
    "HANGUL", "KANA"…"""
    for ch in word:
        if ch.isalpha():
            name = unicodedata.name(ch, "?").split()[0]
            return "KANA" if name in ("HIRAGANA", "KATAKANA") else name
    return "?"


def scripted_words(text: str) -> list[str]:
    """The words of `text` a name may hide in when its script has no capitals: runs of
    katakana (Japanese writes foreign names in it) and a full name's parts between its
    dots, Hangul, Arabic, Hebrew and Devanagari words, and Hebrew and Arabic words
    without a prefixed particle too."""
    out = []
    for m in _SCRIPTED.finditer(unicodedata.normalize("NFC", text)):
        word = m.group(0)
        if any("\u3040" <= c <= "\u30ff" for c in word):
            for run in _KATAKANA_RUN.findall(word):
                # A full name's parts too: "アマラ・オコンクォ" is Amara Okonkwo.
                parts = [p for p in run.split("・") if len(p) >= 2]
                out.extend([run, *parts] if len(parts) > 1 else [run])
        else:
            out.append(word)
            # Hebrew and Arabic join "in", "and", "the" to the word: "בפודוורנה" is
            # "in Podvarna", "والسيريمو" "and the Serrimo".
            bare = _PREFIXED.sub("", word)
            if bare != word and len(bare) >= 3:
                out.append(bare)
    return out
