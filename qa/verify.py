"""Citation verification: the program, not the model, decides what an answer may cite.

Every sentence of a generated answer is matched against the sentences of the passages
the model was shown, by meaning (the embedding model, across languages) and by the
names and numbers it states. A marker pointing to a passage that does not support its
sentence is moved to the one that does, or removed; a sentence no passage supports is
dropped. A marker can only ever name a passage that was shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from qa.chunking import split_sentences
from qa.datelines import is_month
from qa.language import first_word
from qa.lexical import stems
from qa.places import fold, same_place
from qa.scripts import latin, scripted_words, sounds
from qa.types import Passage, Quote

_LIST_MARK = re.compile(r"(?:[-*•–—]|(\d{1,2})[.)])\s+(?=\w)")
_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"\b[^\W\d_][\w'’-]{2,}")
_WORDS = re.compile(r"\w+")
# A model's remarks about its sources ("This is stated in passage 4.") are not claims.
_META = re.compile(r"\b(passages?|pasajes?|abschnitte?|sources?|fuentes?|quellen?)\b", re.I)
NO_ANSWER = "NO ANSWER"


def as_marker(text: str) -> str:
    """`text`'s letters only, upper case, one space between words: how the model's
    `NO_ANSWER` is recognised however it wrote it ("No answer.", "NO_ANSWER")."""
    return " ".join(re.sub(r"[\W\d_]+", " ", text).split()).upper()


# "The passage also states that X", "According to passage 2, X": the claim is X. Left
# in, the preamble hides which words are the claim and ends up in the answer.
_PREAMBLE = re.compile(
    r"^(?:(?:this|it) (?:can be seen|is stated|is shown) (?:from|in) the passages?[^,]*,?\s*"
    r"(?:which|where) |according to (?:the )?passages?(?: \d+)?,\s*|(?:the|this) "
    r"|selon (?:le |les )?passages?(?: \d+)?,\s*|(?:le|ce) )?"
    r"(?:passages?(?: \d+)?(?: from)?(?: also| aussi)? )?"
    r"(?:(?:also )?(?:states?|says|mentions?|notes?|explains?|indicates?|reports?|"
    r"indique|précise|mentionne|affirme)(?: that| que| qu')?\s*)?",
    re.I,
)
# "X because Y": the reason, and whether X only restates the question (see `judged`).
_BECAUSE = re.compile(
    r",?\s+(?:because|parce que|parce qu['’]|car|puisque|weil|denn|porque|ya que)\s+", re.I
)
_RESTATES = 0.6  # share of the words of X (3 letters or more) that the question has
# A question after a count or a year is answered only by a sentence stating a number.
# Matched on the question folded to ASCII; scripts that folding erases have their own.
_COUNTING = re.compile(
    r"\b(?:how many|(?:what|which) year|combien|quelle annee|wie viele?|welchem jahr"
    r"|cuant[oa]s?|que ano|cuantos anos|quant[ioae]|in che anno|quant[oa]s|em que ano"
    r"|hoeveel|welk jaar|hur manga|vilket ar|hvor mange|hvilket ar|kuinka monta|montako"
    r"|kolik|v jakem roce|kac|hany|melyik evben|cat[ie]|in ce an)\b",
    re.I,
)
_COUNTING_SCRIPTS = re.compile(r"сколько|скільки|πόσ[οαεηώ]|多少|几个|何人|いくつ|몇|كم")
# "one", "un", "uno", "ein" are left out: they are articles as often as numbers.
_NUMBER_WORDS = frozenset(
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
    "ninety hundred hundreds thousand thousands million millions billion billions dozen "
    "dozens "
    "deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize "
    "vingt trente quarante cinquante soixante septante nonante cent cents mille milliers "
    "million millions milliard milliards douzaine douzaines "
    "dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
    "dieciseis diecisiete dieciocho diecinueve veinte treinta cuarenta cincuenta sesenta "
    "setenta ochenta noventa cien ciento cientos mil millon millones docena "
    "zwei drei vier funf sechs sieben acht neun zehn elf zwolf dreizehn vierzehn funfzehn "
    "sechzehn siebzehn achtzehn neunzehn zwanzig dreissig vierzig funfzig sechzig siebzig "
    "achtzig neunzig hundert tausend millionen milliarde milliarden dutzend".split()
)


def judged(claim: str, question: str) -> str:
    """The part of a claim that verification matches against the sources.

    "Kim would meet Putin in person because he wants to reassert his position" answers
    "Why would Kim meet Putin in person?": the words before "because" restate the
    question, and matched whole the claim finds the sentence that says Kim would go,
    not the one that gives the reason. So a reason after a restated question is judged
    alone; any other claim is judged whole.
    """
    match = _BECAUSE.search(claim)
    if not match or not question:
        return claim
    asked = {fold(w) for w in _WORDS.findall(question) if len(w) >= 3}
    head = [fold(w) for w in _WORDS.findall(claim[: match.start()]) if len(w) >= 3]
    reason = claim[match.end() :]
    restated = len(head) >= 2 and sum(w in asked for w in head) >= _RESTATES * len(head)
    return reason if restated and len(reason.split()) >= 3 else claim


def asks_count(question: str) -> bool:
    """Whether a question asks how many, or which year."""
    return bool(_COUNTING.search(fold(question)) or _COUNTING_SCRIPTS.search(question.lower()))


def states_count(text: str, question: str) -> bool:
    """Whether `text` states a number `question` does not: digits or a number word."""
    numbers = anchors(text)[0] - anchors(question)[0]
    asked = {fold(w) for w in _WORDS.findall(question)}
    return bool(numbers) or any(
        w in _NUMBER_WORDS and w not in asked
        for w in (fold(w.replace("ß", "ss")) for w in _WORDS.findall(text))
    )


def names_all(passage: Passage, question: str, lang: str) -> bool:
    """Whether a passage, headline included, names everything the question names: "Qui
    est Edward Antill ?" is not answered by a passage on Edward Baker.

    Names are compared by their stems' first five letters, in any case, so a country's
    adjective holds its name ("Russie", "la technologie russe"; "Espagne", "espagnole").
    Numbers are not asked for: a passage says "the year after" or "trois" as often.
    German capitalises every noun: there a word after an article is not taken for a name.
    """
    names = [m.group(0) for m in _names_in(question, lang)]
    keys = {fold(w)[:5] for w in stems(" ".join(names), lang)}
    held = {fold(w) for w in stems(f"{passage.title}\n{passage.text}", lang)}
    return all(any(w.startswith(key) for w in held) for key in keys)


# Articles, and prepositions that hold one ("im", "zum"), of German, which capitalises
# every noun: "der Ausbau des Fährterminals in Rostock" names Rostock only (a question
# on the terminal's cost was refused: the passage says "baut … aus", not "Ausbau").
# A word up to two lower-case words past one (an adjective: "des neuen Terminals") is a
# noun too. Languages that capitalise only names need no such list.
_NOUN_ARTICLES = {
    "de": frozenset(
        "der die das des dem den ein eine einen einem einer eines kein keine keinen keinem "
        "keiner keines dieser diese dieses diesem diesen jeder jede jedes jedem jeden "
        "sein seine seinem seinen seiner ihr ihre ihrem ihren ihrer im am ans ins zum zur "
        "vom beim".split()
    )
}


def _names_in(text: str, lang: str) -> list[re.Match[str]]:
    """Capitalised words past the first; in German, not a noun after an article."""
    return [
        m
        for m in _NAME.finditer(text)
        if m.group(0)[0].isupper()
        and not first_word(text, m.start())
        and not _after_article(text, m.start(), lang)
    ]


def names_in(text: str, lang: str) -> list[str]:
    """The names `text` gives: capitalised words past the first (in German, not a noun
    after an article)."""
    return [m.group(0) for m in _names_in(text, lang)]


def _after_article(text: str, start: int, lang: str) -> bool:
    articles = _NOUN_ARTICLES.get(lang)
    if not articles:
        return False
    before = _WORDS.findall(text[:start])[-3:]
    for word in reversed(before):
        if word.lower() in articles:
            return True
        if not word.islower():
            return False
    return False


def invented_names(claim: str, source: str, question: str, lang: str) -> list[str]:
    """Names of a claim (`claim`, in `lang`) that neither its `source` nor the question
    has ("W Poznaniu …", a small model's Polish for a satellite launched from
    California; "Bridlington" for the "ブリンドルウッド" of a Japanese article).

    A name is a capitalised word past the first, not right after a number ("42,5
    Millionen"). It is held when a word of the source or the question is spelt nearly
    the same (folded, Cyrillic and Greek in Latin letters, 0.75 alike: "Kalifornia" and
    "California", "Rostocku" and "Rostock", "Морвенни" and "Morvenni"), or has its
    consonants when written in kana, Hangul, Arabic, Hebrew or Devanagari
    (`scripts.sounds`: "Okonkwo", "オコンクォ"), so a name may cross languages and
    scripts.

    English capitalises days, months and nationalities ("Tuesday" for "mardi") and
    German every noun: a name held by nothing proves little there, and only a name
    spelt like one the question names, but not it, counts: the subject's own name
    garbled ("Bridlington" for "Brindlewood", "Poland" for the club Polonia). Not one
    spelt like a name of a source in another language: a translation's cognates read
    so ("Supreme Court" for "Corte Suprema", "Edinburgh" for "Edimburgo"). Chinese characters
    (Japanese kanji too) write names qa cannot read: an Italian "Inghilterra" from "英国"
    is not held, so a claim translated from them must keep to names the question or the
    kana give; what the 1.5B model makes of a Japanese sentence is too often wrong to
    trust otherwise ("Londra" in a claim on a reservoir in "英国北部"). In a claim
    written in a script without capitals the rule finds nothing.
    """
    found = [
        m.group(0)
        for m in _names_in(claim, lang)
        if not re.search(r"\d[\d.,]*\s*$", claim[: m.start()])
    ]
    if not found:
        return []
    context = f"{source}\n{question}"
    # Names as the claim's are cut ("Tae-woo", "Val-d'Oise"), and their parts.
    words = [w for w in _WORDS.findall(context) + _NAME.findall(context) if len(w) > 1]
    known = {fold(w) for w in words} | {latin(w) for w in words}
    heard = {sounds(w) for w in scripted_words(context)}

    def held(name: str) -> bool:
        if sounds(name) in heard:
            return True
        # A compound on a held name is held ("T10-tramvägen", "Voltaris-fabriken": the
        # Swedish, German, Dutch way to say "the T10 line", "the Voltaris plant").
        head = name.split("-")[0]
        return any(
            _spelt_alike(fold(part), known) or same_place(part, lang, known)
            for part in {name, head}
            if len(part) > 1
        )

    unheld = [n for n in found if not held(n)]
    if unheld and (lang == "en" or lang in _NOUN_ARTICLES):
        named = {fold(m.group(0)) for m in _names_in(question, lang)}
        return [n for n in unheld if _garbles(fold(n), named)]
    return unheld


def _garbles(word: str, names: set[str]) -> bool:
    """Whether `word` reads like one of `names` (the same first letter, half alike) without
    being held by it: a name a translation garbled."""
    return len(word) >= 5 and any(
        len(n) >= 5 and n[0] == word[0] and SequenceMatcher(None, word, n).ratio() >= 0.5
        for n in names
    )


def _spelt_alike(word: str, known: set[str]) -> bool:
    if word in known:
        return True
    return any(
        abs(len(k) - len(word)) <= 3 and SequenceMatcher(None, word, k).ratio() >= 0.75
        for k in known
    )


def answerable_by(question: str, lang: str | None) -> Callable[[Passage, str], bool]:
    """Whether a source sentence of a passage can answer `question` at all, whatever is
    claimed: one stating a number when the question asks how many ("Combien de
    colonies…?" was answered by a sentence on the colonies giving none), and, in the
    answer's own language `lang`, one whose passage names everything the question names
    (`names_all`). Verification and the quote after a decline ask the same."""
    counting = asks_count(question)
    named: dict[str, bool] = {}

    def check(passage: Passage, sentence: str) -> bool:
        if lang and passage.lang == lang and passage.chunk_id not in named:
            named[passage.chunk_id] = names_all(passage, question, lang)
        return named.get(passage.chunk_id, True) and (
            not counting or states_count(sentence, question)
        )

    return check


def is_claim(text: str) -> bool:
    """Whether a sentence states something: not a remark on the passages, not a loop."""
    words = [w.lower() for w in _WORDS.findall(text)]
    if len(words) < 3 or (_META.search(text) and len(words) < 12):
        return False
    trigrams = list(zip(words, words[1:], words[2:], strict=False))
    return not trigrams or len(set(trigrams)) >= len(trigrams) / 2


@dataclass(frozen=True)
class Claim:
    """An answer sentence without its markers, and the passage numbers it cited."""

    text: str
    markers: tuple[int, ...]


@dataclass(frozen=True)
class Verdict:
    """What verification decided for one claim.

    status: "verified" (kept as cited), "moved" (marker pointed elsewhere, now to the
    supporting passage), "added" (uncited, now cited), "translated" (kept, but resting
    on a source in another language: `Answering.across`), "unsupported" (dropped),
    "off-topic" (supported only by a passage that matches the question clearly less
    well than the one retrieval put first, or, past the first sentence kept, only by a
    passage no sentence before it rests on: dropped).
    `passage` is an index into the shown passages; `quote` the supporting sentence.
    """

    claim: Claim
    status: str
    passage: int | None
    quote: Quote | None
    support: float


def split_claims(answer: str, lang: str) -> list[Claim]:
    """Sentences of `answer`, each with the markers that follow it."""
    claims: list[Claim] = []
    for start, end in split_sentences(answer, lang):
        piece = answer[start:end]
        # "… food aid. [3] It is …": markers before a sentence's first word close the last one.
        lead = re.match(r"(?:\s*\[[^\]]*\])+", piece)
        if lead and claims:
            last = claims.pop()
            claims.append(Claim(last.text, last.markers + _numbers(lead.group(0))))
            piece = piece[lead.end() :]
        text = " ".join(_MARKER.sub("", piece).split())
        text = _without_preamble(re.sub(r"\s+([.!?;:,])", r"\1", text))
        text = _without_list_mark(text, lang)
        if re.search(r"\w", text):
            claims.append(Claim(text, _numbers(piece)))
    return claims


def _without_list_mark(text: str, lang: str) -> str:
    """A claim without the "2." or "-" it opened with in a draft written as a list; a
    German "3. Mai …" keeps its day."""
    match = _LIST_MARK.match(text)
    if not match:
        return text
    word = re.match(r"[^\W\d_]+", text[match.end() :])
    if match.group(1) and word and is_month(word.group(0), lang):
        return text
    return text[match.end() :]


def _without_preamble(text: str) -> str:
    match = _PREAMBLE.match(text)
    # Only a preamble that names the passages; "States that joined…" is a claim.
    if not match or not re.search(r"passage|source", match.group(0), re.I):
        return text
    rest = text[match.end() :].lstrip()
    return rest[:1].upper() + rest[1:] if len(rest.split()) >= 3 else text


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for group in _MARKER.findall(text) for n in re.split(r"[,;]", group))


def previous_sentence(passage: Passage, quote: Quote) -> str:
    """The sentence of `passage` just before `quote`, or ""."""
    before = [q for q in passage.sentence_texts() if q.end <= quote.start]
    return before[-1].text if before else ""


# Words that scale the number before them, by the power of ten they mean in a language:
# "billion" is 10^9 in English and 10^12 in French; German "Billion" is 10^12 and
# "Milliarde" 10^9. A claim "1,3 Billionen" from a source "1.3 billion" misstates the
# figure though its digits match. Languages without a list compare digits only.
_SCALE_WORDS = {
    6: "million millions millón millones milione milioni miljoen miljoenen milhão milhões "
    "millionen milion miliony milionów miljon miljoner millió",
    9: "milliard milliards milliarde milliarden miliardo miliardi miljard miljarden mld "
    "mrd bn miliard miliardy miliardów milliárd",
    12: "billón billones bilione bilioni billionen biljoen biljoenen bilion biliony trillion "
    "trillions",
}
_SCALE = {w: power for power, words in _SCALE_WORDS.items() for w in words.split()}
# Words whose power depends on the language: English short scale, the rest long scale.
_BY_LANG = {
    "billion": {"en": 9},
    "billions": {"en": 9},
    "bilhão": {"pt": 9},
    "bilhões": {"pt": 9},
}
_LONG_BILLION = 12
Figure = tuple[str, int | None]  # digits, power of ten of its scale word
_SCALED = re.compile(rf"({_NUMBER.pattern})\s*([^\W\d_]+\.?)?")
# Numbers written as words, two to twenty and the tens, by language: "ocho días" from a
# source's "eighteen days" is a figure the source does not state, and "18 días" one it
# does. Words that mean something else as often ("sei": six, "you are"; "neuf": nine,
# new) are left out, and so is a word joined to another by a hyphen ("dix-huit"). In a
# language without a list, numbers in digits only are compared.
_VALUE_WORDS = {
    "en": "two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety",
    "fr": "deux trois quatre cinq six sept huit - dix onze douze treize quatorze quinze "
    "seize - - - vingt trente quarante cinquante soixante - - -",
    "es": "dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
    "dieciséis diecisiete dieciocho diecinueve veinte treinta cuarenta cincuenta sesenta "
    "setenta ochenta noventa",
    "de": "zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn "
    "fünfzehn sechzehn siebzehn achtzehn neunzehn zwanzig dreißig vierzig fünfzig "
    "sechzig siebzig achtzig neunzig",
    "it": "due tre quattro cinque - sette otto nove dieci undici dodici tredici "
    "quattordici quindici sedici diciassette diciotto diciannove venti trenta quaranta "
    "cinquanta sessanta settanta ottanta novanta",
    "nl": "twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien "
    "vijftien zestien zeventien achttien negentien twintig dertig veertig vijftig zestig "
    "zeventig tachtig negentig",
    "pt": "dois três quatro cinco seis sete oito nove dez onze doze treze catorze quinze "
    "dezesseis dezessete dezoito dezenove vinte trinta quarenta cinquenta sessenta "
    "setenta oitenta noventa",
}
_VALUES = [*range(2, 21), *range(30, 100, 10)]
# Days of the week are figures too ("eindigd op dinsdag" from a source's "ended on
# Thursday" was verified), as "day 1" to "day 7". Portuguese names them with "-feira",
# and "quinta" is also a farm: digits only there.
_WEEKDAYS = {
    "en": "monday tuesday wednesday thursday friday saturday sunday",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "es": "lunes martes miércoles jueves viernes sábado domingo",
    "de": "montag dienstag mittwoch donnerstag freitag samstag sonntag",
    "it": "lunedì martedì mercoledì giovedì venerdì sabato domenica",
    "nl": "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag",
}
_WORD_VALUES = {
    lang: {w: str(v) for w, v in zip(words.split(), _VALUES, strict=True) if w != "-"}
    | {w: f"day {d}" for d, w in enumerate(_WEEKDAYS.get(lang, "").split(), 1)}
    for lang, words in _VALUE_WORDS.items()
}
_LONE_WORD = re.compile(r"(?<![\w-])[^\W\d_]+(?![\w-])")


def scaled_numbers(text: str, lang: str | None) -> set[Figure]:
    """(digits, power of ten of the scale word after them, or None) of each number, in
    digits or (in the languages of `_VALUE_WORDS`) a word; and each day of the week."""
    out: set[Figure] = set()
    for m in _SCALED.finditer(text):
        word = (m.group(2) or "").rstrip(".").lower()
        power = _SCALE.get(word)
        if word in _BY_LANG:
            power = _BY_LANG[word].get(lang or "", None if lang is None else _LONG_BILLION)
        out.add((re.sub(r"[.,]", "", m.group(1)), power))
    values = _WORD_VALUES.get(lang or "", {})
    out.update((values[w.lower()], None) for w in _LONE_WORD.findall(text) if w.lower() in values)
    return out


def _states(stated: set[Figure], figure: Figure) -> bool:
    """Whether a source's figures state `figure`: the same digits, and the same scale
    when both give one."""
    digits, power = figure
    return any(d == digits and (power is None or p is None or p == power) for d, p in stated)


def unstated(claimed: set[Figure], stated: set[Figure]) -> int:
    """How many of a claim's numbers its source does not state."""
    return sum(not _states(stated, f) for f in claimed)


def misstated(claimed: set[Figure], stated: set[Figure]) -> bool:
    """Whether the claim gives a figure of the source at another scale (its digits,
    another power of ten): never a paraphrase, so that source cannot support it."""
    return any(
        f[1] is not None and any(d == f[0] for d, _ in stated) and not _states(stated, f)
        for f in claimed
    )


def anchors(text: str) -> tuple[set[str], set[str]]:
    """Numbers (separators dropped) and capitalised names past the first word, folded."""
    numbers = {re.sub(r"[.,]", "", n) for n in _NUMBER.findall(text)}
    names = {fold(m.group(0))[:5] for m in _names_in(text, "")}
    return numbers, names


class Verifier:
    """Scores claims against the sentences of the shown passages.

    Support is the cosine of claim and sentence, plus a bonus per shared name and a
    penalty per number of the claim that the sentence lacks: an invented figure is
    the commonest way a small model goes wrong. Bonus, penalty and threshold are
    fractions of (1 - floor), so they follow the embedding model's cosine scale.
    """

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        floor: float,
        threshold: float = 0.15,
        name_bonus: float = 0.1,
        number_penalty: float = 0.5,
        margin: float = 0.1,
        topic_margin: float = 0.03,
    ):
        self.embed = embed
        scale = 1.0 - floor
        self.threshold = floor + threshold * scale
        self.name_bonus = name_bonus * scale
        self.number_penalty = number_penalty * scale
        self.margin = margin * scale
        self.topic_margin = topic_margin * scale

    def verify(
        self,
        claims: list[Claim],
        shown: list[tuple[Passage, list[Quote]]],
        question: str = "",
        top_score: float | None = None,
        lang: str | None = None,
    ) -> list[Verdict]:
        """A verdict per claim. `shown[i]` is passage `[i + 1]` and the sentences shown of it.

        Numbers the question itself states ("Super Bowl 50") are not claims of the answer.
        `top_score`, the cosine of the passage retrieval ranked first, makes claims that
        rest on a passage matching the question clearly less well off-topic: a small
        model wanders from the answer to true side facts of the next paragraphs (on
        XQuAD en→es, 10 of 13 wrong citations named a passage ranked second or lower).

        `lang`, the answer's language (the question's), drops claims that add no word to
        the question, and lets a sentence in that same language support a claim only if
        it has most of the words the claim adds to the question (stems, no function
        words): the part that answers must be in the source, not only its topic. One
        shared word was not enough: on piaf_fr, wrong citations shared a third or a half
        of them, right ones nearly all. There the source, or the sentence before it, must
        also share one of the question's words the claim repeats (what it is about).
        Across languages only meaning, names and numbers can tell. To a question after a
        count or a year, only a sentence stating a number answers; in the answer's own
        language, only a passage naming all the question names.
        """
        asked_numbers, _ = anchors(question)
        sources = [(i, q) for i, (_, quotes) in enumerate(shown) for q in quotes]
        if not claims:
            return []
        if not sources:
            return [Verdict(c, "unsupported", None, None, 0.0) for c in claims]
        texts = [judged(c.text, question) for c in claims]
        vectors = np.asarray(self.embed(texts + [q.text for _, q in sources]))
        claim_vecs, source_vecs = vectors[: len(claims)], vectors[len(claims) :]
        cosine = claim_vecs @ source_vecs.T
        source_anchors = [anchors(q.text) for _, q in sources]
        befores = [previous_sentence(shown[i][0], q) for i, q in sources]
        # A claim may join a sentence to the one before it ("postponed to March 2027
        # because the rails must be replaced", where the article says why in its next
        # sentence): a figure the sentence before states is not one the source lacks.
        source_figures = [
            scaled_numbers(f"{before} {q.text}", shown[i][0].lang)
            for (i, q), before in zip(sources, befores, strict=True)
        ]
        asked_stems = set(stems(question, lang)) if lang else set()
        source_stems = [
            set(stems(q.text, lang)) if lang and shown[i][0].lang == lang else None
            for i, q in sources
        ]
        context_stems = [
            set(stems(before, lang)) if lang and own is not None else set()
            for before, own in zip(befores, source_stems, strict=True)
        ]
        can_answer = answerable_by(question, lang)
        answers = [can_answer(shown[i][0], q.text) for i, q in sources]
        verdicts = []
        for ci, claim in enumerate(claims):
            said = set(stems(texts[ci], lang)) if lang else set()
            added = said - asked_stems
            # The question's words the claim repeats name what it is about: a source with
            # none of them, nor the sentence before it (what "it" or "he" refers back
            # to), is about something else ("La pastille noire provient du sel" rested on
            # a sentence about salt imported from France). One is enough: a model
            # rewords the question ("est devenu capitaine" for "promu capitaine").
            subject = said & asked_stems
            # A sentence that adds no word to the question ("The expression set called
            # is.") answers nothing, however close to a source it reads.
            if not is_claim(claim.text) or (lang and not added):
                verdicts.append(Verdict(claim, "unsupported", None, None, 0.0))
                continue
            _, names = anchors(texts[ci])
            # A passage that does not hold the claim's names cannot support it, however
            # close its meaning: the 1.5B model garbles names it translates, and the
            # embedding reads "Bridlington" close to "ブリンドルウッド".
            holds = [
                not lang or not invented_names(claim.text, f"{p.title}\n{p.text}", question, lang)
                for p, _ in shown
            ]
            figures = {f for f in scaled_numbers(texts[ci], lang) if f[0] not in asked_numbers}
            support = np.array(
                [
                    cosine[ci, si]
                    + self.name_bonus * min(2, len(names & s_names))
                    - self.number_penalty * unstated(figures, s_figures)
                    if answers[si]
                    and holds[sources[si][0]]
                    and not misstated(figures, s_figures)
                    and (
                        s_stems is None
                        or (
                            2 * len(added & s_stems) > len(added)
                            and (not subject or bool(subject & (s_stems | before)))
                        )
                    )
                    else -1.0
                    for si, ((_, s_names), s_figures, s_stems, before) in enumerate(
                        zip(
                            source_anchors, source_figures, source_stems, context_stems, strict=True
                        )
                    )
                ]
            )
            verdict = self._judge(claim, support, sources, len(shown))
            cited = {v.passage for v in verdicts if v.passage is not None}
            if (
                verdict.passage is not None
                and top_score is not None
                # Past the answer's first sentence, only the passages it rests on: a small
                # model goes on with side facts of the next passages (on four runs of three
                # sets, 9 of 10 such later sentences cited a wrong passage, and 21 of 26
                # resting on an already cited one a right passage). Dropped, not moved to a
                # cited passage that supports it less well: that makes a wrong citation.
                and (
                    bool(cited)
                    and verdict.passage not in cited
                    or shown[verdict.passage][0].score < top_score - self.topic_margin
                )
            ):
                verdict = Verdict(claim, "off-topic", None, None, verdict.support)
            verdicts.append(verdict)
        return verdicts

    def _judge(
        self, claim: Claim, support: np.ndarray, sources: list[tuple[int, Quote]], shown: int
    ) -> Verdict:
        best_support = float(support.max())
        if best_support < self.threshold:
            return Verdict(claim, "unsupported", None, None, best_support)
        # Sentences that support the claim about as well as the best one does; of those,
        # the one in the passage retrieval ranked highest. A small model cites a lower
        # passage that repeats the fact as readily as the one that answers (on XQuAD
        # en→es, 19 of 28 wrong citations named a passage ranked second or lower).
        floor = max(self.threshold, best_support - self.margin)
        eligible = [si for si in range(len(sources)) if support[si] >= floor]
        choice = min(eligible, key=lambda si: (sources[si][0], -support[si]))
        passage, quote = sources[choice]
        cited = {m - 1 for m in claim.markers if 1 <= m <= shown}
        status = "verified" if passage in cited else "moved" if claim.markers else "added"
        return Verdict(claim, status, passage, quote, float(support[choice]))
