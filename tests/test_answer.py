from __future__ import annotations

import re
from typing import Any

import numpy as np

from qa.answer import cite, select_sentences
from qa.types import Passage


def passage(chunk_id: str, text: str, score: float, start: int = 0) -> Passage:
    spans, pos = [], 0
    for sentence in re.findall(r"[^.]+\.", text):
        s = text.index(sentence.strip(), pos)
        spans.append((start + s, start + s + len(sentence.strip())))
        pos = s + len(sentence.strip())
    return Passage(
        "doc-" + chunk_id,
        chunk_id,
        "T",
        None,
        "src",
        "fr",
        text,
        start,
        start + len(text),
        score,
        tuple(spans),
    )


def test_best_sentences_are_cited_with_numbers_that_name_their_passages(words_model: Any) -> None:
    a = passage("a", "The cat sleeps on the sofa all day. Dogs bark at the mailman daily.", 0.9)
    b = passage(
        "b", "Bread is baked in the oven each morning. The cat sleeps in the sun.", 0.8, 500
    )
    q = np.asarray(words_model.query("where does the cat sleep"), dtype=np.float32)
    selected = select_sentences(q, [a, b], words_model.passages, lambda p: 0.2, 2)
    # The shorter sentence shares the same words with fewer others: it ranks first.
    assert [s.quote.text for s in selected] == [
        "The cat sleeps in the sun.",
        "The cat sleeps on the sofa all day.",
    ]
    text, citations = cite(selected)
    assert text == "The cat sleeps in the sun. [1] The cat sleeps on the sofa all day. [2]"
    assert [(c.n, c.chunk_id) for c in citations] == [(1, "b"), (2, "a")]
    for c in citations:
        for quote in c.quotes:
            assert c.text[quote.start - c.start : quote.end - c.start] == quote.text
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", text)}
    assert markers == {c.n for c in citations}


def test_passages_below_the_floor_are_never_quoted(words_model: Any) -> None:
    weak = passage("w", "The cat sleeps on the sofa all day.", 0.1)
    q = np.asarray(words_model.query("cat sofa"), dtype=np.float32)
    assert select_sentences(q, [weak], words_model.passages, lambda p: 0.2, 3) == []


def test_a_repeated_sentence_is_quoted_once(words_model: Any) -> None:
    a = passage("a", "Kim will travel by armoured train to the east.", 0.9)
    b = passage(
        "b", "Kim will travel by armoured train to the east. Nothing else here now.", 0.9, 99
    )
    q = np.asarray(words_model.query("how will Kim travel"), dtype=np.float32)
    selected = select_sentences(q, [a, b], words_model.passages, lambda p: 0.2, 3)
    assert [s.quote.text for s in selected].count(
        "Kim will travel by armoured train to the east."
    ) == 1
