"""Every test runs with its own HOME, caches, working folder and index; no QA_* leaks in."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from qa.embeddings import EmbeddingModel, load_embedding, register_embedding

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


# Under a name, for what builds its assistant from settings (the CLI, the chat): `--embed
# words` in the fast tier, where the slow one loads e5.
register_embedding("words", WordsEmbedding, min_score=0.2)


@pytest.fixture
def words_model() -> EmbeddingModel:
    return load_embedding("words")


# English articles the words fake tells apart by their words: the fast tier's assistant,
# CLI and chat tests ask them what the slow tier asks the seed with e5.
ARTICLES = [
    {
        "id": "kim",
        "title": "Kim and Putin",
        "date": "2023-09-10",
        "text": "Kim Jong-un would meet Putin in person because he wants Russian satellite "
        "technology. The two leaders last met in Vladivostok in 2019. Kim travels by "
        "armoured train.",
    },
    {
        "id": "tram",
        "title": "Grenoble tram",
        "date": "2024-05-02",
        "text": "The new tram line F in Grenoble opened on Saturday. The line cost 310 million "
        "euros and is 12 km long.",
    },
    {
        "id": "storm",
        "title": "Storm Mareike",
        "date": "2024-01-20",
        "text": "Storm Mareike hit Hamburg on Saturday. Insurers put the damage at 1.3 billion "
        "euros.",
    },
]


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    """`rows` as a JSON Lines file at `path`, one object a line."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="session")
def words_seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of ARTICLES built once with the words fake; tests copy it."""
    from qa import Assistant

    folder = tmp_path_factory.mktemp("words")
    index = folder / "index"
    articles = write_jsonl(folder / "articles.jsonl", ARTICLES)
    report = Assistant(index_dir=index, embed="words", llm="none").ingest([articles])
    assert report.added == len(ARTICLES) and report.failed == 0
    return index


@pytest.fixture
def words_index(words_seeded: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "words-index"
    shutil.copytree(words_seeded, copy)
    return copy


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
