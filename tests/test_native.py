"""The native runtime's kept prompt states (`qa.native`): a prompt starts from the state
that shares its beginning, in memory or on disk, reads only the rest, and gives the
logits a whole read gives; a state on disk is never used for another template, model or
llama-cpp-python."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from llama_index.core.llms import ChatMessage

from qa.config import load_settings
from qa.llm import load_llm
from qa.native import PromptStates, identity

pytestmark = pytest.mark.slow

JUDGE = "You judge whether a passage from a news article answers a question."
OTHER = "You judge whether a passage from a news article answers a question. Be strict."
PASSAGES = (
    "[1] Le chantier de la ligne F a coûté 310 millions d'euros, financés pour moitié par "
    "la métropole.\n[2] La nouvelle ligne F du tramway de Grenoble a été inaugurée samedi."
)


@pytest.fixture(scope="module")
def native(model_dir: Path) -> Any:
    pytest.importorskip("llama_cpp")
    return load_llm(load_settings({"model_dir": model_dir, "runtime": "llama-cpp"}))


@pytest.fixture
def counted(native: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The number of tokens of each read llama.cpp does, with nothing held at first."""
    llama = native._model
    reads: list[int] = []
    plain = llama.eval

    def eval_(tokens: list[int]) -> None:
        reads.append(len(tokens))
        plain(tokens)

    monkeypatch.setattr(llama, "eval", eval_)
    llama.reset()
    yield reads
    llama.reset()


def prompt(native: Any, system: str, user: str) -> list[int]:
    text = native.messages_to_prompt(
        [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
    )
    return list(native._model.tokenize(text.encode("utf-8"), special=True))


def states(native: Any, folder: Path, system: str, version: str = "") -> PromptStates:
    """Fresh states, as a new process has them: nothing in memory, `folder` on disk."""
    kept = PromptStates(native._model, folder, identity(Path(native.model_path), 2048) + version)
    alone = native.messages_to_prompt([ChatMessage(role="system", content=system)])
    full = native.messages_to_prompt(
        [ChatMessage(role="system", content=system), ChatMessage(role="user", content="x")]
    )
    kept.mark(os.path.commonprefix([full, alone]))
    return kept


def logits(native: Any) -> np.ndarray:
    llama = native._model
    return np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),)).copy()


def test_a_new_process_loads_the_system_prompt_from_disk(
    native: Any, counted: list[int], tmp_path: Path
) -> None:
    tokens = prompt(native, JUDGE, "Question: Combien a coûté le chantier ?\n\n" + PASSAGES)
    states(native, tmp_path, JUDGE).read(tokens)
    first = logits(native)
    fixed = counted[0]
    assert len(counted) == 2 and sum(counted) == len(tokens)  # the system prompt, the rest
    assert len(list(tmp_path.glob("*.state"))) == 1

    native._model.reset()
    counted.clear()
    states(native, tmp_path, JUDGE).read(tokens)
    assert counted == [len(tokens) - fixed]  # the system prompt came from its file
    assert np.array_equal(logits(native), first)

    native._model.reset()
    counted.clear()
    plain = PromptStates(native._model, None, "")  # no states: the whole prompt at once
    plain.read(tokens)
    assert counted == [len(tokens)]
    whole = logits(native)
    assert np.argmax(whole) == np.argmax(first)
    assert np.max(np.abs(whole - first)) < 0.05 * np.max(np.abs(whole))


def test_another_template_model_or_library_is_another_state(
    native: Any, counted: list[int], tmp_path: Path
) -> None:
    question = "Question: Combien a coûté le chantier ?\n\n" + PASSAGES
    states(native, tmp_path, JUDGE).read(prompt(native, JUDGE, question))

    for system, version in ((OTHER, ""), (JUDGE, "|0.3.37")):
        native._model.reset()
        counted.clear()
        tokens = prompt(native, system, question)
        states(native, tmp_path, system, version).read(tokens)
        assert sum(counted) == len(tokens), (system, version)  # read, not loaded
    assert len(list(tmp_path.glob("*.state"))) == 3


def test_a_prompt_starts_from_the_kept_state_sharing_most_of_its_beginning(
    native: Any, counted: list[int]
) -> None:
    kept = PromptStates(native._model, None, "")
    first = prompt(native, JUDGE, PASSAGES + "\n\nQuestion: Combien a coûté le chantier ?")
    other = prompt(native, OTHER, "Quand la ligne F a-t-elle été inaugurée ?")
    follow_up = prompt(native, JUDGE, PASSAGES + "\n\nQuestion: Qui a financé le chantier ?")
    kept.read(first)
    kept.read(other)  # the model now holds another prompt
    counted.clear()
    kept.read(follow_up)
    shared = next(i for i, (a, b) in enumerate(zip(first, follow_up, strict=False)) if a != b)
    assert counted == [len(follow_up) - shared]


def test_the_answer_starts_from_kept_states_and_says_the_same(native: Any) -> None:
    messages = [
        ChatMessage(role="system", content="Answer from the passages, in one sentence."),
        ChatMessage(role="user", content=PASSAGES + "\n\nQuestion: Combien a coûté le chantier ?"),
    ]
    native._model.reset()
    first = native.chat(messages).message.content
    native._model.reset()  # the state is kept, not held: it is loaded
    assert native.chat(messages).message.content == first
    assert "310" in first


def test_loading_the_model_leaves_the_output_alone(
    model_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The generator loads in a thread while the main one prints (the spinner; in `qa
    serve`, a command's output to its client): nothing printed meanwhile is lost, and
    llama.cpp's own log stays off the terminal."""
    import threading
    import time

    pytest.importorskip("llama_cpp")
    settings = load_settings({"model_dir": model_dir, "runtime": "llama-cpp", "max_tokens": 9})
    loaded: list[Any] = []
    loader = threading.Thread(target=lambda: loaded.append(load_llm(settings)))
    loader.start()
    lines = 0
    while loader.is_alive():
        print(f"line {lines}", flush=True)
        os.write(2, b"raw\n")
        lines += 1
        time.sleep(0.01)
    loader.join()
    out, err = capfd.readouterr()
    assert loaded and lines > 10
    assert out.count("line ") == lines and err.count("raw") == lines
    assert "control-looking token" not in err
