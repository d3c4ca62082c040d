"""Every test runs with its own HOME, caches, working folder and index; no QA_* leaks in."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
KIM = "Why would Kim meet Putin in person?"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("QA_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


class WordsEmbedding(BaseEmbedding):
    """A fake that discriminates: hashed bag of lower-cased words, so ranking is testable."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(model_name="words", **kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "WordsEmbedding"

    def _vec(self, text: str) -> list[float]:
        v = [0.0] * 64
        for w in re.findall(r"\w+", text.lower()):
            v[int(hashlib.md5(w.encode()).hexdigest(), 16) % 64] += 1.0
        norm = sum(x * x for x in v) ** 0.5 or 1.0
        return [x / norm for x in v]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vec(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)


@pytest.fixture
def words_model() -> Any:
    from qa.embeddings import EmbeddingModel

    return EmbeddingModel("words", WordsEmbedding(), 0.2)


@pytest.fixture(scope="session")
def seeded_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of seeds/ built once with the real default model; tests copy it."""
    from qa import Assistant

    index = tmp_path_factory.mktemp("seeded") / "index"
    report = Assistant(index_dir=index).ingest([SEEDS])
    assert report.added == 1 and report.failed == 0
    return index


@pytest.fixture
def kim_index(seeded_index: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "index"
    shutil.copytree(seeded_index, copy)
    return copy


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the local model's GGUF is assembled, once for the whole run."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def local_llm(model_dir: Path) -> Any:
    """The real local generator (llama.cpp), loaded once and handed to assistants."""
    from qa.config import load_settings
    from qa.llm import load_llm

    return load_llm(load_settings({"model_dir": model_dir}))


class ScriptedWriter:
    """The real local model as judge, with a scripted answer as its writing: how a test
    makes the generator write a given wrong claim."""

    def __init__(self, llm: Any, text: str, standalone: str = ""):
        self._model = llm._model
        self.messages_to_prompt = llm.messages_to_prompt
        self.text = text
        self.standalone = standalone  # its rewriting of a follow-up

    def complete(self, prompt: str) -> Any:
        from llama_index.core.llms import CompletionResponse

        return CompletionResponse(text=self.standalone)

    def stream_chat(self, messages: Any) -> Any:
        from llama_index.core.llms import ChatMessage, ChatResponse

        yield ChatResponse(
            message=ChatMessage(role="assistant", content=self.text), delta=self.text
        )

    def chat(self, messages: Any) -> Any:
        from llama_index.core.llms import ChatMessage, ChatResponse

        return ChatResponse(message=ChatMessage(role="assistant", content=self.text))


def assert_schema(data: Any, name: str) -> None:
    """`data` is valid under docs/schemas/NAME.schema.json (the documented --json)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = {
        p.name: json.loads(p.read_text()) for p in (ROOT / "docs" / "schemas").glob("*.json")
    }
    registry: Registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values()
    )
    Draft202012Validator(schemas[f"{name}.schema.json"], registry=registry).validate(data)


def cited_claims(index: Path, llm: Any, question: str) -> list[Any]:
    """The answer's cited sentences, with `llm` writing: each one verified (or moved to,
    or added from, the passage that supports it), and some there."""
    from qa import Assistant

    qa = Assistant(index_dir=index)
    qa.llm = llm
    answer = qa.ask(question)
    assert not answer.abstained and answer.mode == "generated", answer.text
    kept = [s for s in answer.sentences if s.citation is not None]
    assert kept and all(s.status in ("verified", "moved", "added") for s in kept), answer
    return kept
