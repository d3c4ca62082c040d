"""Retrieved candidates → one ranking: the dense and lexical signals fused by rank.

Dense: the passage's cosine plus its best sentence's cosine (the answer usually sits in
one sentence), plus a small share of a second, independent model's passage cosine.
Lexical: BM25 of the question's stems over passages in its language, and BM25 of its
names and numbers over passages in other languages; each is its own list, so a word two
languages happen to share lifts nothing. Reciprocal rank fusion needs no calibration
between BM25 and cosine, which differ per model and per language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from qa.lexical import runs
from qa.scripts import latin, script, scripted_words, sounds
from qa.types import Explanation, Passage, Signal, date_number

_WORD = re.compile(r"\w+")
_SENTENCE_START = set(".!?:;\"'«»“”„‘’-–—([")

# Rank offset of reciprocal rank fusion, the weight of each lexical list against the dense
# one, and the sentence's share of the dense score: chosen on ../shared/eval with
# bench/fusion.py (docs/benchmarks.md, "Retrieval"), one setting for every language. Same-language
# BM25 lifts piaf_fr R@1 from 0.68 to 0.76; names across languages cost XQuAD R@1 at every
# weight tried (its passages share their story's names), so they are off unless asked for.
RRF_K = 30
LEXICAL_WEIGHT = 0.75
NAMES_WEIGHT = 0.0
SENTENCE_SHARE = 0.65  # of the dense score: passage cosine and best-sentence cosine
# The sentence signal is a soft maximum of a passage's sentence cosines (log-mean-exp):
# a second matching sentence adds a little, as the answer often spans two, while the mean
# keeps long passages from gaining by length alone. Measured with bench/fusion.py: XQuAD
# en→es R@1 0.914 → 0.920, en→de, piaf_fr and squad_dev_en within ±0.5 point.
SOFTNESS = 0.012
LENGTH_DISCOUNT = 0.004
# A second model's opinion of the passage (the companion, USE-m3 beside e5), added to the
# dense score with a small weight: the two models err on different passages, so where e5
# hesitates between near-equal cosines the companion settles it. Measured with
# bench/fusion.py, every weight from 0.02 to 0.2 lifts both XQuAD pairs; at 0.05: en→de
# R@1 0.903 → 0.911 and R@5 0.990 → 0.993, en→es 0.920 → 0.924 and 0.995 → 0.997,
# piaf_fr and squad_dev_en within half a point (docs/benchmarks.md, "Retrieval"). As a
# rank of its own in the fusion it costs R@1 instead: alone it is the weaker model.
COMPANION_WEIGHT = 0.05


def sentence_signal(cosines: list[float]) -> float:
    """A passage's sentence score from the cosines of its sentences (at least one)."""
    top = max(cosines)
    spread = sum(math.exp((c - top) / SOFTNESS) for c in cosines)
    return top + SOFTNESS * math.log(spread) - LENGTH_DISCOUNT * math.log(len(cosines))


@dataclass(frozen=True)
class Candidate:
    passage: Passage  # score: the passage's cosine
    sentence: float | None = None  # `sentence_signal`, when the index has sentence vectors
    lexical: float | None = None  # BM25, same language
    names: float | None = None  # BM25 of names and numbers, other languages
    # Share of the question's lexical weight each match covers: a lexical list's first
    # place is worth its full weight only when it matches the whole question.
    lexical_coverage: float = 1.0
    names_coverage: float = 1.0
    best_sentence: float | None = None  # cosine of its best sentence, shown to users
    companion: float | None = None  # the passage's cosine under the index's companion model


def _ranks(values: list[float | None]) -> list[int | None]:
    """1-based rank of each value, best (highest) first; None stays None."""
    present = sorted(((-v, i) for i, v in enumerate(values) if v is not None))
    ranks: list[int | None] = [None] * len(values)
    for r, (_, i) in enumerate(present, 1):
        ranks[i] = r
    return ranks


def fuse(
    candidates: list[Candidate],
    k: int,
    rrf_k: float = RRF_K,
    lexical_weight: float = LEXICAL_WEIGHT,
    names_weight: float = NAMES_WEIGHT,
    sentence_share: float = SENTENCE_SHARE,
    companion_weight: float = COMPANION_WEIGHT,
) -> list[Passage]:
    """The `k` best candidates, each with the explanation of its rank."""
    passage: list[float | None] = [c.passage.score for c in candidates]
    sentence = [c.sentence for c in candidates]
    companion = [c.companion for c in candidates]
    # The companion counts only when every candidate has its score (an index built with
    # it); a score missing for some would rank those below the rest.
    if any(c is None for c in companion):
        companion_weight = 0.0
    dense: list[float] = [
        (1 - sentence_share) * c.passage.score
        + sentence_share * (c.sentence if c.sentence is not None else c.passage.score)
        + companion_weight * (c.companion or 0.0)
        for c in candidates
    ]
    lists: dict[str, tuple[list[float | None], list[int | None]]] = {
        name: (values, _ranks(values))
        for name, values in (
            ("passage", passage),
            ("sentence", sentence),
            ("companion", companion),
            ("dense", list[float | None](dense)),
            ("lexical", [c.lexical for c in candidates]),
            ("names", [c.names for c in candidates]),
        )
    }
    coverage = {
        "dense": [1.0] * len(candidates),
        "lexical": [c.lexical_coverage for c in candidates],
        "names": [c.names_coverage for c in candidates],
    }
    weights = {"dense": 1.0, "lexical": lexical_weight, "names": names_weight}
    # Names across languages count only where they tell passages apart: a passage lifts by
    # how much more of the question's names it shares than the dense favourite does. The
    # passages of one story all share its names; ranking them by BM25 reorders them at
    # random (measured: it costs XQuAD R@1 1 to 3 points).
    top = min(range(len(candidates)), key=lambda i: lists["dense"][1][i] or 0, default=0)
    base = coverage["names"][top] if candidates and lists["names"][1][top] is not None else 0.0
    for i in range(len(candidates)):
        if lists["names"][1][i] is not None:
            coverage["names"][i] = max(0.0, coverage["names"][i] - base)
    fused = [
        sum(
            w * coverage[name][i] / (rrf_k + (1 if name == "names" else rank))
            for name, w in weights.items()
            if (rank := lists[name][1][i]) is not None
        )
        for i in range(len(candidates))
    ]
    # Ties (no lexical evidence anywhere) keep the dense order.
    order = sorted(range(len(candidates)), key=lambda i: (-fused[i], -dense[i]))[:k]
    out = []
    for rank, i in enumerate(order, 1):
        signals = tuple(
            Signal(
                name,
                None if (x := v[i]) is None else round(x, 4),
                r[i],
                coverage[name][i] if name in ("lexical", "names") and r[i] is not None else None,
            )
            for name, (v, r) in lists.items()
        )
        c = candidates[i]
        out.append(
            replace(
                c.passage,
                sentence_score=None if c.best_sentence is None else round(c.best_sentence, 4),
                explanation=Explanation(signals, round(fused[i], 6), rank),
            )
        )
    return out


def latest_first(
    pool: list[Passage],
    k: int,
    relevance: Callable[[Passage], float],
    margin: float,
    names: Sequence[str] = (),
    lead: str | None = None,
    scripted: Sequence[str] = (),
) -> list[Passage]:
    """For a question after the latest news: the newest articles on its subject first.

    On the subject means a relevance within `margin` of the best passage's (relevance: a
    cosine made fair between languages, so an article in another language than the
    question competes on its subject, not its language) and, when the best passage holds
    some of the question's `names` (lower-cased names and numbers), holding one of those
    too: another storm, as close in cosine, is not storm Mareike. Names compare as their
    inflections keep them (`_key`), the question's `lead` word counts as a name when
    the passages write it as one (capitalised mid-sentence), and names and the question's
    `scripted` words (kana, Hangul…) compare by their consonants too (`scripts.sounds`).
    Those rank by date, newest first (undated last), then the rest in their order. A
    bonus on the score instead loses to the gap a same-language keyword match opens.
    `--explain` shows the date rank.
    """
    if not any(date_number(p.date) is not None for p in pool):
        return pool[:k]  # nothing dated: the ranking stands
    scored = {p.chunk_id: relevance(p) for p in pool}
    # The subject is what the question names: the best passage holding the most of its
    # names, not the best by cosine alone (a Korean question on the Tessivault hack is
    # as close to another exchange's hack, newer, in another language).
    words = {p.chunk_id: _words(p) for p in pool}
    asked = _writings(names, lead, scripted, pool)
    if any(k.startswith("~") for keys in asked.values() for k in keys):
        for p in pool:
            words[p.chunk_id] |= _sounded(p)
    held = {
        p.chunk_id: {
            n for n, keys in asked.items() if any(_holds(words[p.chunk_id], k) for k in keys)
        }
        for p in pool
    }
    # A name counts by the languages of the passages holding it: a real name is written
    # alike in all of them; a German noun ("Batteriefabrik") is capitalised in German only.
    spread = {n: len({p.lang for p in pool if n in held[p.chunk_id]}) for n in asked}
    best = max(pool, key=lambda p: (sum(spread[n] for n in held[p.chunk_id]), scored[p.chunk_id]))
    # The subject: the best passage's names that the most languages write alike (Voltaris,
    # not the battery factory another article is about too).
    widest = max((spread[n] for n in held[best.chunk_id]), default=0)
    subject = {n for n in held[best.chunk_id] if spread[n] == widest}
    if not subject:
        best, subject = _unnamed_subject(pool, scored, words)
        for p in pool:
            held[p.chunk_id] = {n for n in subject if _holds(words[p.chunk_id], _key(n))}

    def on_subject(p: Passage) -> bool:
        close = scored[p.chunk_id] >= scored[best.chunk_id] - margin
        # Chinese writes a foreign name in characters chosen for their sound, which qa
        # cannot read: in an article naming nothing in Latin letters, closeness alone
        # decides (one that writes other names so is about something else).
        unreadable = p.lang == "zh" and not any(
            w[:1].isascii() and w[:1].isalpha() for w in words[p.chunk_id]
        )
        return close and (not subject or bool(subject & held[p.chunk_id]) or unreadable)

    chosen = [p for p in pool if on_subject(p)]
    by_date = sorted(
        chosen, key=lambda p: (date_number(p.date) or -1, scored[p.chunk_id]), reverse=True
    )
    dated = [p for p in by_date if date_number(p.date) is not None]
    rest = [p for p in pool if p not in chosen]
    out = []
    for p in (by_date + rest)[:k]:
        rank = dated.index(p) + 1 if p in dated else None
        signal = Signal("recency", None if rank is None else float(date_number(p.date) or 0), rank)
        if p.explanation is not None:
            explanation = replace(p.explanation, signals=(*p.explanation.signals, signal))
            p = replace(p, explanation=explanation)
        out.append(p)
    return out


def names_it(p: Passage, names: Sequence[str], lead: str | None, scripted: Sequence[str]) -> bool:
    """Whether passage `p` holds one of the question's names, in any of its writings."""
    words = _words(p) | _sounded(p)
    keys = _writings(names, lead, scripted, [p]).values()
    return any(_holds(words, k) for writings in keys for k in writings)


def _writings(
    names: Sequence[str], lead: str | None, scripted: Sequence[str], pool: Sequence[Passage]
) -> dict[str, set[str]]:
    """The question's names, each with the keys of its writings: as its inflections keep
    it, in Latin letters (Сальтрево), and by its consonants, for scripts the letters do
    not reach (サルトレボ, 오르반델: the Japanese and Korean Saltrevo and Orvandel). The
    `lead` word is a name when a passage of `pool` writes it as one; a `scripted` word
    (kana, Hangul…) when it has consonants enough to be compared by them."""
    if lead and any(_holds(_written_as_names(p.text), _key(lead)) for p in pool):
        names = [lead, *names]
    asked = {n: {_key(n), _key(latin(n)), *_sound_keys([n])} for n in names}
    asked |= {w: {_key(w), _key(latin(w)), *keys} for w in scripted if (keys := _sound_keys([w]))}
    return asked


def _unnamed_subject(
    pool: list[Passage], scored: dict[str, float], words: dict[str, set[str]]
) -> tuple[Passage, set[str]]:
    """When the question names nothing the passages hold (a Chinese question writes
    Quillon "奎隆"): the closest passage, and its names that the most languages write
    alike, if two languages or more do (none: closeness alone decides)."""
    best = max(pool, key=lambda p: scored[p.chunk_id])
    own = {w for w in words[best.chunk_id] if len(w) >= 4 and w.isalpha() and w != w.upper()}
    spread = {w: len({p.lang for p in pool if _holds(words[p.chunk_id], _key(w))}) for w in own}
    widest = max(spread.values(), default=0)
    return best, {w for w, n in spread.items() if n == widest >= 2}


def _key(name: str) -> str:
    """What of a name its inflections keep: all but four letters, at least five (Finnish
    "Kestrahornin" is Kestrahorn, Hungarian "Sellanovában" Sellanova). A name shorter than
    five letters is itself ("F", "EDF")."""
    name = name.lower()
    return name[: max(5, len(name) - 4)]


def _holds(words: set[str], key: str) -> bool:
    if key.startswith("~"):
        return any(w.startswith("~") and _sound_alike(w, key) for w in words)
    # A name inflected (the key begins the passage's word) or in a compound (the
    # passage's word, six letters at least, begins the key: Swedish "Oskelundsbron").
    return (
        key in words
        or len(key) >= 5
        and any(w.startswith(key) or len(w) >= 6 and key.startswith(w) for w in words)
    )


# Consonants a name needs to be compared by them (four: with three, the Persian
# "سارنوو", Sarnevo, is Serrimo, and the Japanese and Hindi "recall" a name), and how
# many more the other writing may have (a Korean particle, a Russian ending). Only across
# scripts: between two Latin spellings consonants alone confuse names ("Fennolux" and
# "Hovemark"), letters compare those. And the Latin writing may not be the longer:
# "Fennolux" is not the Korean "호베마르크". Kana and Hangul write every consonant with
# its vowel, so there three compare, exactly, with an alphabet's (Nalvo, "ナルヴォ",
# "날보"); abjads drop or merge too much for three (v and w are one letter).
_SOUNDS = 4
_SOUNDS_SYLLABIC = 3
_SYLLABIC = frozenset({"KANA", "HANGUL"})
_ALPHABETS = frozenset({"LATIN", "CYRILLIC", "GREEK"})
_SOUNDS_EXTRA = 2


def _sound_keys(words: Sequence[str]) -> set[str]:
    return {f"~{script(w)}:{s}" for w in words if len(s := sounds(w)) >= _SOUNDS_SYLLABIC}


def _sound_alike(a: str, b: str) -> bool:
    (sa, a), (sb, b) = a[1:].split(":"), b[1:].split(":")
    if sa == sb:
        return False
    (short, _), (long, long_script) = sorted(((a, sa), (b, sb)), key=lambda x: len(x[0]))
    if len(short) < _SOUNDS:
        pair = {sa, sb}
        return a == b and bool(pair & _SYLLABIC) and bool(pair & _ALPHABETS)
    room = 0 if long_script == "LATIN" else _SOUNDS_EXTRA
    return long.startswith(short) and len(long) - len(short) <= room


def _sounded(p: Passage) -> set[str]:
    """A passage's names by their consonants: its capitalised words and the words of
    scripts without capitals."""
    text = f"{p.title} {p.text}"
    names = [r for w in _WORD.findall(text) for r in runs(w) if r[0].isupper()]
    return _sound_keys(names + scripted_words(text))


def _words(p: Passage) -> set[str]:
    """The words of a passage that may be names, lower-cased: those it capitalises (or
    writes in a script without capitals) and numbers; in Latin letters too where written
    in Cyrillic or Greek (a question naming Tarnovel finds the Russian "Тарновеле"). A
    name is capitalised in every language that has capitals, so the question's German
    noun "Grund" is not held by a Swedish passage's "grundstötning"."""
    words = {
        r.lower()
        for w in _WORD.findall(f"{p.title} {p.text}")
        for r in runs(w)
        if r[0].isupper() or not r[0].islower()
    }
    return words | {latin(w) for w in words if not w.isascii()}


def _written_as_names(text: str) -> set[str]:
    """Words `text` capitalises where a sentence does not begin."""
    out = set()
    for m in _WORD.finditer(text):
        if not m.group(0)[0].isupper():
            continue
        i = m.start() - 1
        while i >= 0 and text[i].isspace():
            i -= 1
        if i >= 0 and text[i] not in _SENTENCE_START:
            out.add(runs(m.group(0))[0].lower())
    return out
