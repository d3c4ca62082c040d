"""Documents → chunks: passages of whole sentences, each with its character span.

A chunk never cuts a sentence, so a citation can quote any of its sentences exactly
and point back into the document.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from qa.documents import Document

_PARAGRAPH = re.compile(r"\n\s*\n")
_PYSBD_LANGUAGES = frozenset(
    "en hi mr zh es am ar hy bg ur ru pl fa nl da fr my el it ja de kk sk".split()
)
# A run of text with no sentence end at all (a table, a scraped menu) is still cut,
# at word boundaries, so that no chunk outgrows what an embedding model reads.
_RUNAWAY = 2


@dataclass(frozen=True)
class Chunk:
    """A passage of `doc`: `text == doc.text[start:end]`; `sentences` are document spans."""

    chunk_id: str
    doc_id: str
    position: int
    text: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]


def headed_text(title: str, text: str) -> str:
    """A chunk as it is indexed: the headline gives every passage its context."""
    if not title or text.startswith(title):
        return text
    return f"{title}\n{text}"


@functools.cache
def _segmenter(lang: str) -> Any:
    import pysbd

    segmenter = pysbd.Segmenter(language=lang if lang in _PYSBD_LANGUAGES else "en", clean=False)
    segmenter.language_module = _once_per_abbreviation(segmenter.language_module)
    return segmenter


def _once_per_abbreviation(language: Any) -> Any:
    """pysbd's rules for `language`, with its abbreviation pass made linear.

    For every word that starts like an abbreviation ("co" in "contre", "comme"…), pysbd
    rewrites the whole line with the same substitution again: a third of its time on
    news text. A substitution only turns a period into a marker, and such a change can
    only remove matches of the others, never add one; so a second run of the same one
    on the same line changes nothing and is skipped. The sentences are the same.
    """
    from pysbd.abbreviation_replacer import AbbreviationReplacer

    base = getattr(language, "AbbreviationReplacer", AbbreviationReplacer)
    # Languages with their own rules for this pass (German, Arabic…) keep pysbd's.
    if any(
        getattr(base, name) is not getattr(AbbreviationReplacer, name)
        for name in (
            "search_for_abbreviations_in_string",
            "scan_for_replacements",
            "replace_period_of_abbr",
        )
    ):
        return language

    class Replacer(base):  # type: ignore[misc, valid-type]
        def search_for_abbreviations_in_string(self, text: str) -> str:
            self._applied: set[str] = set()
            return str(super().search_for_abbreviations_in_string(text))

        def scan_for_replacements(self, txt: str, am: str, ind: int, char_array: list[str]) -> str:
            # pysbd substitutes unless the next word is capitalised (prepositive: always).
            char = char_array[ind] if ind < len(char_array) else ""
            abbreviation = am.strip()
            prepositive = abbreviation.lower() in self.lang.Abbreviation.PREPOSITIVE_ABBREVIATIONS
            if (str(char).isupper() and not prepositive) or abbreviation in self._applied:
                return txt
            self._applied.add(abbreviation)
            return str(super().scan_for_replacements(txt, am, ind, char_array))

    return type(language.__name__, (language,), {"AbbreviationReplacer": Replacer})


_DASHES = "—–"


def split_sentences(text: str, lang: str) -> list[tuple[int, int]]:
    """Sentence spans of `text`, whitespace trimmed; paragraphs always end a sentence."""
    spans: list[tuple[int, int]] = []
    para_start = 0
    for m in [*_PARAGRAPH.finditer(text), None]:
        para_end = m.start() if m else len(text)
        paragraph = text[para_start:para_end]
        if paragraph.strip():
            cursor = 0
            for sentence in _segmenter(lang).segment(paragraph):
                piece = sentence.strip()
                if not piece:
                    continue
                found = paragraph.find(piece, cursor)
                if found < 0:  # the segmenter altered the text: keep the rest whole
                    rest = paragraph[cursor:]
                    found = cursor + len(rest) - len(rest.lstrip())
                    piece = rest.strip()
                span = (para_start + found, para_start + found + len(piece))
                if piece[0] in _DASHES and spans and spans[-1][0] >= para_start:
                    # A dateline the segmenter cut at an abbreviation ("Kraków, 3 marca
                    # 2027 r. — Od 1 kwietnia …"): the dash joins it to its sentence, as
                    # a dateline without one stays ("Odemira, 14 de agosto — Um …").
                    span = (spans.pop()[0], span[1])
                spans.append(span)
                cursor = found + len(piece)
                if cursor >= len(paragraph):
                    break
        para_start = m.end() if m else len(text)
    return spans


def _words(text: str) -> int:
    return len(text.split())


def _cut_runaway(text: str, span: tuple[int, int], limit: int) -> list[tuple[int, int]]:
    start, end = span
    if _words(text[start:end]) <= limit:
        return [span]
    pieces = []
    words = list(re.finditer(r"\S+", text[start:end]))
    for i in range(0, len(words), limit):
        group = words[i : i + limit]
        pieces.append((start + group[0].start(), start + group[-1].end()))
    return pieces


def chunk_document(doc: Document, chunk_words: int) -> list[Chunk]:
    """Pack whole sentences into passages of about `chunk_words` words."""
    sentences = [
        piece
        for span in split_sentences(doc.text, doc.lang)
        for piece in _cut_runaway(doc.text, span, chunk_words * _RUNAWAY)
    ]
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    count = 0
    for span in sentences:
        n = _words(doc.text[span[0] : span[1]])
        if current and count + n > chunk_words:
            groups.append(current)
            current, count = [], 0
        current.append(span)
        count += n
    if current:
        # A short tail reads better as the end of the previous passage than alone.
        if groups and count < chunk_words // 4:
            groups[-1].extend(current)
        else:
            groups.append(current)
    prefix = doc.hash[:12]
    return [
        Chunk(
            chunk_id=f"{doc.doc_id}#{prefix}-{i}",
            doc_id=doc.doc_id,
            position=i,
            text=doc.text[g[0][0] : g[-1][1]],
            start=g[0][0],
            end=g[-1][1],
            sentences=tuple(g),
        )
        for i, g in enumerate(groups)
    ]
