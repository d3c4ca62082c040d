"""Language of a text, as an ISO 639-1 code, offline (py3langid's bundled model)."""

from __future__ import annotations

import functools
import re
from typing import Any

# The languages both py3langid and the embedding models (XLM-R's hundred) know. Outside
# them py3langid's guesses on a short question are noise (German read as Luxembourgish).
LANGUAGES = tuple(
    """af am ar as az be bg bn br bs ca cs cy da de el en eo es et eu fa fi fr fy ga gd gl gu
    ha he hi hr hu hy id is it ja jv ka kk km kn ko ku ky la lo lt lv mg mk ml mn mr ms my ne
    nl no om or pa pl ps pt ro ru sa si sk sl so sq sr sv sw ta te th tl tr ug uk ur uz vi xh
    zh""".split()
)

# A character n-gram model guesses poorly on three-word questions ("Who is Breuker?"
# comes out Dutch); question and function words settle those, in the languages a
# question's first words name best. Elsewhere the n-gram model decides alone.
_CUES: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "what who whom whose why how when where which is are was were does do did "
        "the and of to in think many much an for on",
        "fr": "que qui quoi pourquoi comment quand où quel quelle quels quelles est sont le la "
        "les des du et pense il elle combien de en un une au aux pour",
        "de": "was wer wen warum wie wann wo welche welcher welches ist sind der die das und "
        "denkt den dem nicht wieviel viele hat haben wird gibt im mit auf",
        "es": "qué quién quiénes por cómo cuándo dónde cuál cuánto cuánta cuántos es son el "
        "los las del y piensa la de en un una por para se al",
        "it": "che chi perché come quando dove quale quanto quanti cosa è sono il gli della e "
        "pensa ha di del la le lo un una per nel nella alla al dei delle degli",
        "nl": "wat wie waarom hoe wanneer waar welke hoeveel is het een zijn denkt niet heeft "
        "wordt op met de van",
        "pt": "que quem porque como quando onde qual quanto quantos é são os as do da e pensa não "
        "de em no na um uma para o ao",
        "pl": "co kto dlaczego jak kiedy gdzie który która jest są czy ile",
        "ro": "ce cine cum când unde care este sunt și cât câte",
        "sv": "vad vem varför hur när vilken är och det",
        "da": "hvad hvem hvorfor hvordan hvornår hvilken er og det",
        "no": "hva hvem hvorfor hvordan når hvilken er og det",
        "fi": "mitä mikä kuka miksi miten milloin missä on ja paljonko",
        "cs": "co kdo proč jak kdy kde který je jsou kolik",
        "tr": "ne kim neden nasıl nerede hangi mi mı mu mü ve kaç",
        "hu": "mi ki miért hogyan mikor hol melyik van és mennyi",
    }.items()
}
_WORD = re.compile(r"[^\W\d_]+")
_SHORT = 8
_LIKELY = 5
_SURE = 0.9
# Kana anywhere is Japanese (Chinese has none; Japanese writes names in Han alone).
_KANA = re.compile(r"[\u3040-\u30ff]")
# Scripts that name their language outright when they write most of the text.
_SCRIPTS = (
    (re.compile(r"[\uac00-\ud7af]"), "ko"),
    (re.compile(r"[\u4e00-\u9fff]"), "zh"),
    (re.compile(r"[\u0370-\u03ff]"), "el"),
    (re.compile(r"[\u0590-\u05ff]"), "he"),
    (re.compile(r"[\u0e00-\u0e7f]"), "th"),
    (re.compile(r"[\u10a0-\u10ff]"), "ka"),
    (re.compile(r"[\u0530-\u058f]"), "hy"),
)


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages([lang for lang in LANGUAGES if lang in ident.nb_classes])
    return ident


def _by_cues(words: list[str], among: list[str]) -> str | None:
    """The language, of those `among`, whose question words the text uses most; a word
    several languages share ("was", "in", "que") splits its vote between them. None on a
    tie."""
    votes = {lang: 0.0 for lang in among if lang in _CUES}
    if not votes:
        return None
    for w in words:
        sharing = [lang for lang in votes if w in _CUES[lang]]
        for lang in sharing:
            votes[lang] += 1.0 / len(sharing)
    best = max(votes.values())
    winners = [lang for lang, v in votes.items() if v == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def detect_language(text: str, default: str = "en") -> str:
    """The most likely language of `text` (an ISO 639-1 code of LANGUAGES); `default`
    for text with no letters."""
    sample = text[:2000]
    words = [w.lower() for w in _WORD.findall(sample)]
    if not words:
        return default
    letters = "".join(words)
    if _KANA.search(letters):
        return "ja"
    for script, written in _SCRIPTS:
        # Most of the letters, not one: a Latin-script article may quote a Greek word.
        if len(script.findall(letters)) * 2 > len(letters):
            return written
    if len(words) > _SHORT:
        return str(_identifier().classify(sample)[0])
    # Question words settle a short text the n-gram model hesitates on, among the
    # languages it finds likely: "Kim" opens a Turkish question, not an English sentence
    # about Kim Jong-un; a sure model is not overruled ("del" is Spanish, but "Quanto
    # costa un biglietto del tram?" is Italian).
    ranked = _identifier().rank(sample)[:_LIKELY]
    if ranked[0][1] >= _SURE:
        return str(ranked[0][0])
    return _by_cues(words, [str(lang) for lang, _ in ranked]) or str(ranked[0][0])


def written_in(text: str, lang: str, suspects: set[str]) -> str | None:
    """The language of `suspects` an answer sentence is written in instead of `lang`, or
    None. Judged on its words without names, numbers and markers (a sentence of names
    reads as any language), and only for three such words or more. `suspects` are the
    languages a generator slips into: its source's, and English."""
    words = [
        w
        for i, w in enumerate(_WORD.findall(text))
        if not (i > 0 and w[:1].isupper()) and not w.isupper()
    ]
    if len(words) < 3:
        return None
    found = detect_language(" ".join(words))
    return found if found != lang and found in suspects else None


def copied_words(text: str, source: str, question: str) -> list[str]:
    """Words of an answer sentence taken as they are from a source in another language:
    lower-case words of five letters or more that the source has and the question has
    not ("usine" in a Dutch sentence from a French source, "billion" in a German one)."""
    own = {w.lower() for w in _WORD.findall(question)}
    theirs = {w for w in _WORD.findall(source) if w.islower()}
    return [
        w
        for w in dict.fromkeys(_WORD.findall(text))
        if w.islower() and len(w) >= 5 and w in theirs and w not in own
    ]


# English names of the languages, for prompts ("Answer in Dutch").
_NAMES = dict(
    item.split("=")
    for item in """af=Afrikaans am=Amharic ar=Arabic as=Assamese az=Azerbaijani be=Belarusian
    bg=Bulgarian bn=Bengali br=Breton bs=Bosnian ca=Catalan cs=Czech cy=Welsh da=Danish
    de=German el=Greek en=English eo=Esperanto es=Spanish et=Estonian eu=Basque fa=Persian
    fi=Finnish fr=French fy=Frisian ga=Irish gd=Scottish_Gaelic gl=Galician gu=Gujarati
    ha=Hausa he=Hebrew hi=Hindi hr=Croatian hu=Hungarian hy=Armenian id=Indonesian
    is=Icelandic it=Italian ja=Japanese jv=Javanese ka=Georgian kk=Kazakh km=Khmer
    kn=Kannada ko=Korean ku=Kurdish ky=Kyrgyz la=Latin lo=Lao lt=Lithuanian lv=Latvian
    mg=Malagasy mk=Macedonian ml=Malayalam mn=Mongolian mr=Marathi ms=Malay my=Burmese
    ne=Nepali nl=Dutch no=Norwegian om=Oromo or=Odia pa=Punjabi pl=Polish ps=Pashto
    pt=Portuguese ro=Romanian ru=Russian sa=Sanskrit si=Sinhala sk=Slovak sl=Slovenian
    so=Somali sq=Albanian sr=Serbian sv=Swedish sw=Swahili ta=Tamil te=Telugu th=Thai
    tl=Tagalog tr=Turkish ug=Uyghur uk=Ukrainian ur=Urdu uz=Uzbek vi=Vietnamese xh=Xhosa
    zh=Chinese""".split()
)


def language_name(code: str) -> str:
    """The English name of a language code, for prompts."""
    return _NAMES.get(code, code).replace("_", " ")


# Each language's name in itself, for interface text in any language ("lingua: Deutsch").
_AUTONYMS = dict(
    item.split("=")
    for item in """af=Afrikaans ar=العربية bg=български bn=বাংলা ca=català cs=čeština
    cy=Cymraeg da=dansk de=Deutsch el=Ελληνικά en=English eo=Esperanto es=español
    et=eesti eu=euskara fa=فارسی fi=suomi fr=français ga=Gaeilge gl=galego he=עברית
    hi=हिन्दी hr=hrvatski hu=magyar hy=Հայերեն id=Indonesia is=íslenska it=italiano
    ja=日本語 ka=ქართული kk=қазақша ko=한국어 lt=lietuvių lv=latviešu mk=македонски
    ms=Melayu nl=Nederlands no=norsk pl=polski pt=português ro=română ru=русский
    sk=slovenčina sl=slovenščina sq=shqip sr=српски sv=svenska sw=Kiswahili ta=தமிழ்
    th=ไทย tl=Tagalog tr=Türkçe uk=українська ur=اردو vi=Tiếng_Việt zh=中文""".split()
)


def autonyms() -> tuple[str, ...]:
    """The languages qa names in themselves: those it speaks to people in."""
    return tuple(_AUTONYMS)


def autonym(code: str) -> str:
    """A language's name in that language (its English name where none is listed)."""
    return _AUTONYMS.get(code, language_name(code)).replace("_", " ")


def first_word(text: str, start: int) -> bool:
    """Whether the word at `start` opens `text` (capitalised for that alone, so not a
    name), past any opening punctuation ("¿Cuánto", "« Pourquoi")."""
    return not any(ch.isalnum() for ch in text[:start])


# Words asking for the newest news, by language (the question's, and English, which
# people mix in): "latest", "recent", and the ways of asking what is new ("any news",
# "où en est", "a che punto"), as a news archive's users ask after a story's last turn.
# A question in a language with no list here is ranked as any other.
_LATEST_WORDS = {
    "en": r"latest|recent|recently|newest|lately|most recent|new developments?|news|updates?"
    r"|what's new|what is new|where does .+ stand|where do .+ stand",
    "fr": r"derni(?:er|ère|ers|ères)|récente?s?|récemment|nouveautés?|quoi de neuf|nouvelles"
    r"|du nouveau|où en est|où en sont",
    "de": r"neueste[nrs]?|aktuelle?[nrs]?|kürzlich|jüngste[nrs]?|neues|neuigkeiten"
    r"|neue entwicklungen|nachrichten|stand",
    "es": r"últim[oa]s?|últimamente|recientes?|recientemente|novedad(?:es)?|noticias"
    r"|qué se sabe|cómo va|cómo van",
    "it": r"ultim[oaie]|ultimamente|recent[ei]|recentemente|novità|notizie|aggiornamenti?"
    r"|a che punto",
    "nl": r"laatste|recente?|nieuwste|onlangs|nieuws|ontwikkelingen|hoe staat het",
    "pt": r"últim[oa]s?|ultimamente|recentes?|recentemente|novidades?|notícias"
    r"|o que há de novo|como está|como estão",
    "pl": r"najnowsz[eay]|ostatni[ea]?|ostatnio|wiadomości",
    "ro": r"ultimel?e|recente?|noutăți|noutati|știri",
    "sv": r"senaste|nyaste|nyheter",
    "da": r"seneste|nyeste|nyheder",
    "no": r"siste|nyeste|nyheter",
    "fi": r"uusimma?t|viimeisimmät|tuoreimmat|viimeaikaiset|uutiset",
    "cs": r"nejnovější|poslední|zprávy",
    "tr": r"en son|son gelişmeler|güncel|haberler",
    "hu": r"legújabb|legfrissebb|legutóbbi|hírek",
    "ru": r"последн(?:ие|их|ее|яя)|свежие|новости",
    "uk": r"останні|свіжі|новини",
    "el": r"τελευταί(?:α|ες|ο|ος)|πρόσφατ(?:α|ες|ο|η)|ειδήσεις",
}
# Scripts without spaces between words: the words match anywhere.
_LATEST_ANYWHERE = {"zh": "最新|最近", "ja": "最新|最近", "ko": "최신|최근", "ar": "آخر|أحدث"}


@functools.cache
def _latest_pattern(lang: str) -> re.Pattern[str]:
    words = "|".join(w for w in (_LATEST_WORDS.get(lang), _LATEST_WORDS["en"]) if w)
    anywhere = _LATEST_ANYWHERE.get(lang)
    pattern = rf"(?<!\w)(?:{words})(?!\w)" + (f"|{anywhere}" if anywhere else "")
    return re.compile(pattern, re.IGNORECASE)


def asks_for_latest(question: str, lang: str) -> bool:
    """Whether `question` (in `lang`) asks for the latest or most recent news."""
    return _latest_pattern(lang).search(question) is not None


# Languages that write a decimal point ("6.8"); the others a decimal comma ("6,8"), as
# most of Europe, Latin America and Russia do.
_DECIMAL_POINT = frozenset("en zh ja ko th he ar hi ms tl ga mt".split())
# One or two decimals only: "1.300" is a thousand and three hundred in German. Not a date
# or a time ("am 14.03.", "um 10.30 Uhr"): no digit, mark or colon next to it (so a
# figure closing a sentence, "6.8.", is left as written), no word of the hour after it.
_DECIMAL = re.compile(
    r"(?<![\d.,:])(\d+)([.,])(\d{1,2})(?![\d.,:])(?!\s*(?:Uhr|h\b|heures?\b|ore\b))"
)


def decimals_as_written(text: str, lang: str, source: str) -> str:
    """`text` with each decimal its `source` states written as `lang` writes decimals
    ("6.8 millones" → "6,8 millones" in Spanish, "1,3" → "1.3" in English). Only a value
    the source gives is touched, so a figure is never turned into another."""
    stated = {(m.group(1), m.group(3)) for m in _DECIMAL.finditer(source)}
    mark = "." if lang in _DECIMAL_POINT else ","

    def written(m: re.Match[str]) -> str:
        if (m.group(1), m.group(3)) not in stated:
            return m.group(0)
        return f"{m.group(1)}{mark}{m.group(3)}"

    return _DECIMAL.sub(written, text)


# A whole number in groups of three, one mark between them ("2,300", "1.350", "40 000").
_GROUPED = re.compile(r"(?<![\d.,])\d{1,3}([,.\u00a0\u202f ])\d{3}(?:\1\d{3})*(?!\d|[.,]\d)")
_SPACES = "\u00a0\u202f "


def _group_mark(lang: str) -> str | None:
    """The mark `lang` writes between groups of three digits (CLDR's, through Babel)."""
    from babel import UnknownLocaleError
    from babel.numbers import get_group_symbol

    try:
        return str(get_group_symbol(lang))
    except (UnknownLocaleError, ValueError):  # a code Babel does not know: leave them be
        return None


def thousands_as_written(text: str, lang: str, source: str, source_lang: str) -> str:
    """`text` with each number its `source` writes in groups of three written as `lang`
    groups them: the model copies an English "2,300" into Italian, where it reads as two
    point three ("2.300"). Only a value the source groups as its own language does is
    touched: a German "1,300" is a decimal, and stays as written."""
    theirs, ours = _group_mark(source_lang), _group_mark(lang)
    if theirs is None or ours is None:
        return text

    def grouping(mark: str, own: str) -> bool:
        return mark == own or (mark in _SPACES and own in _SPACES)

    stated = {
        re.sub(r"\D", "", m.group(0))
        for m in _GROUPED.finditer(source)
        if grouping(m.group(1), theirs)
    }

    def written(m: re.Match[str]) -> str:
        if grouping(m.group(1), ours) or re.sub(r"\D", "", m.group(0)) not in stated:
            return m.group(0)
        return m.group(0).replace(m.group(1), ours)

    return _GROUPED.sub(written, text)
