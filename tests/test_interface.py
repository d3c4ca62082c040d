"""The words around an answer, in the question's language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.interface import parse, words
from qa.prompts import Prompts

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"


def _files() -> list[Path]:
    return sorted(PROMPTS.glob("interface.*.txt"))


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_each_language_has_every_line_with_its_placeholders(path: Path) -> None:
    english = parse((PROMPTS / "interface.en.txt").read_text(encoding="utf-8"))
    texts = parse(path.read_text(encoding="utf-8"))
    assert list(texts) == list(english)
    for key, text in texts.items():
        assert re.findall(r"\{\w+\}", text) == re.findall(r"\{\w+\}", english[key]), key


def test_a_language_with_a_file_is_shown_in_it_and_others_in_english() -> None:
    prompts = Prompts(PROMPTS)
    italian = words(prompts, "it")
    assert italian("verified") == "risposta (verificata)"
    assert italian.stage("reading the passages") == "lettura dei passaggi"
    assert italian.status("moved") == "verificata, passaggio citato corretto"
    # Names of languages as an Italian reader reads them: each in its own language.
    note = italian("untranslated", languages=italian.languages({"ja", "de"}))
    assert note == (
        "(citato come lo scrive l'articolo, lingua: Deutsch, 日本語; nessuna traduzione verificata)"
    )
    # No file for Yoruba: English throughout, language names in English too.
    yoruba = words(prompts, "yo")
    assert yoruba("quoted") == "answer (quoted)"
    assert yoruba("untranslated", languages=yoruba.languages({"fr"})) == (
        "(quoted as the article says it, in French: no checked translation)"
    )
    assert yoruba.stage("a stage qa has no text for") == "a stage qa has no text for"


def test_counts_are_filled_in() -> None:
    german = words(Prompts(PROMPTS), "de")
    assert (
        german("unsupported", count=2)
        == "(aus dem Entwurf gestrichen, von keiner Passage gestützt: 2)"
    )
