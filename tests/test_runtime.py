"""The local model on the prebuilt runtime (xllamacpp), which the default install uses:
it answers, judges and stops as the native one does."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from qa import Assistant
from qa.config import load_settings
from qa.errors import ConfigError
from qa.judge import GeneratorReader
from qa.llm import load_llm

from .conftest import KIM, cited_claims

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prebuilt(model_dir: Path) -> Any:
    pytest.importorskip("xllamacpp")
    return load_llm(load_settings({"model_dir": model_dir, "runtime": "xllamacpp"}))


def test_the_runtime_is_chosen_by_setting(prebuilt: Any) -> None:
    from qa.xllama import XLlamaCPP

    assert isinstance(prebuilt, XLlamaCPP)
    with pytest.raises(ConfigError, match="Unknown runtime 'gpu'"):
        load_llm(load_settings({"runtime": "gpu"}))


def test_the_judge_reads_the_prebuilt_runtime(prebuilt: Any) -> None:
    qa = Assistant(llm="none")
    reader = GeneratorReader(
        prebuilt,
        qa.prompts.render("judge_system"),
        lambda q, p: qa.prompts.render("judge_one", question=q, passage=p),
    )
    assert GeneratorReader.supports(prebuilt)
    yes, no = reader.rate(
        "Combien a coûté le chantier de la ligne F ?",
        [
            "Le chantier a coûté 310 millions d'euros, financés pour moitié par la métropole.",
            "La nouvelle ligne F du tramway de Grenoble a été inaugurée samedi.",
        ],
    )
    assert 0.0 < no < yes < 1.0, (yes, no)


def test_a_reader_that_stops_reading_stops_the_generation(prebuilt: Any) -> None:
    stream = prebuilt.stream_chat(
        [ChatMessage(role="user", content="Write a long story about a tram in Grenoble.")]
    )
    first = next(stream)
    assert first.delta
    stream.close()  # what Ctrl-C does to the answer's stream
    # Nothing goes on generating behind the user's back, and the runtime takes the next
    # request (how fast it lets go is measured by bench/latency.py, not asserted here).
    assert not any(t.name == "qa-xllamacpp" for t in threading.enumerate())
    assert prebuilt.complete("Say yes.").text


def test_the_kim_question_is_answered_and_checked_on_the_prebuilt_runtime(
    kim_index: Path, prebuilt: Any
) -> None:
    cited_claims(kim_index, prebuilt, KIM)
