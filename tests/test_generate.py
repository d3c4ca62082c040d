"""The local model (Qwen2.5-Coder-1.5B through llama.cpp) on the seed article, for real.

Each answer takes seconds on 2 cores, so these are few.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import Assistant
from qa.config import load_settings
from qa.language import detect_language

from .conftest import KIM

pytestmark = pytest.mark.slow


@pytest.fixture
def local(kim_index: Path, model_dir: Path) -> Assistant:
    qa = Assistant(index_dir=kim_index, settings=load_settings({"model_dir": model_dir}))
    assert qa.llm is not None, qa.notices
    return qa


def test_the_model_is_assembled_once_and_checked(local: Assistant, model_dir: Path) -> None:
    from qa.llm import GGUF_NAME, GGUF_SHA256_PREFIX

    assert (model_dir / GGUF_NAME).stat().st_size > 1_000_000_000
    assert (model_dir / GGUF_NAME).with_suffix(".sha256").read_text().startswith(GGUF_SHA256_PREFIX)


def test_kim_question_gets_an_answer_an_english_reader_can_check(local: Assistant) -> None:
    stream = local.ask_stream(KIM)
    tokens = list(stream)
    answer = stream.answer
    assert len(tokens) > 3 and not answer.abstained, answer.sentences
    kept = [s for s in answer.sentences if s.citation is not None]
    if answer.mode == "generated":
        assert detect_language(answer.text) == "en"
        # English put from a French article: the model's rendering, not "verified".
        assert kept and all(s.status == "translated" for s in kept)
    else:
        # The writer's claims did not hold: the article's sentence is the answer, and
        # the model's English for it is offered as the model's, unverified.
        assert answer.mode == "extractive" and [s.status for s in kept] == ["quoted"]
        assert kept[0].translation and detect_language(kept[0].translation) == "en"
    sources = " ".join(s.source.text for s in kept if s.source)
    # Why a physical meeting is notable, or what Kim seeks.
    assert any(k in sources for k in ("rencontre physique", "satellitaire", "personnellement"))
    assert "first_token_ms" in answer.timings


def test_an_unanswerable_question_gets_an_abstention(local: Assistant) -> None:
    answer = local.ask("How many shells has North Korea delivered so far?")
    assert answer.abstained and answer.citations == ()
    assert answer.text.startswith("The articles in the index do not answer")


def test_a_refusal_comes_in_the_questions_language_translated_once(
    local: Assistant, kim_index: Path, isolated: Path
) -> None:
    """No template file speaks Vietnamese: the model translates the English one once, the
    translation is kept in the cache folder, and later refusals, with a model or
    without, read it from there."""
    question = "Công thức làm bánh táo ngon nhất là gì?"
    bare = Assistant(index_dir=kim_index, llm="none")
    assert bare.ask(question).text.startswith("The articles in the index do not answer")
    first = local.ask(question)
    assert first.abstained and detect_language(first.text) == "vi", first.text
    assert question in first.text
    (cached,) = (isolated.parent / "home" / ".cache" / "qa" / "prompts").glob("no_answer.vi.*")
    later = Assistant(index_dir=kim_index, llm="none").ask("Vé đi mặt trăng giá bao nhiêu?")
    assert later.abstained and later.text.split("“")[0].split('"')[0] in cached.read_text()
