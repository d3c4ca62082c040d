"""The models an `Assistant` answers with (`Models`): loaded when first needed, or in
the background ahead of the question (`preload`), each once; in `qa serve`, once for
every assistant that uses the same one (`Shared`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from qa.config import DEFAULT_EMBED, Settings
from qa.embeddings import EmbeddingModel, canonical_name, load_embedding
from qa.judge import Judge, Scorer
from qa.llm import LLMUnavailable, load_llm
from qa.prompts import Prompts
from qa.respond import ms
from qa.store import Store

# Embedding models read ~512 tokens and tokenising a pasted page costs seconds: a
# question is read up to here (about two paragraphs).
QUESTION_CHARS = 1000

T = TypeVar("T")


class Shared:
    """Models loaded once in a process for all the assistants that share them, by what
    makes a model the same (its name and the settings it is loaded with).

    `qa serve` keeps an assistant per working folder and settings: `qa ask`, `qa ask -k
    8` and `qa search --index /abs/path` are three, and each loaded its own generator
    (a server held three copies, 6.2 GB). Not for assistants used from two threads at
    once: a generator answers one prompt at a time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[Hashable, tuple[threading.Lock, list[Any]]] = {}

    def get(self, key: Hashable, load: Callable[[], T]) -> tuple[T, bool]:
        """The model under `key`, loaded by `load` if no assistant has it yet; and
        whether this call loaded it. A load that fails is tried again next time."""
        with self._lock:
            lock, value = self._slots.setdefault(key, (threading.Lock(), []))
        with lock:
            if value:
                return value[0], False
            value.append(load())
            return value[0], True


class Models:
    """The embedding model, the index's companion model, the generator and the judge of
    one assistant's index.

    `given` is an embedding model already loaded (its `name` is `settings.embed`); else
    the model is the one `settings.embed` names, else the index's, else e5. `notices`
    collects what the caller should hear: a generator that could not load.
    """

    def __init__(
        self, settings: Settings, store: Store, prompts: Prompts, given: EmbeddingModel | None
    ):
        self.settings = settings
        self.store = store
        self.prompts = prompts
        self.notices: list[str] = []
        self._given = given
        self._model = given
        self._second: EmbeddingModel | None = None
        self._llm: Any = None
        self._llm_loaded = False
        self.llm_name = settings.llm  # names the generator in its errors
        # The models may load in a background thread (`preload`) while a question is
        # searched; whoever needs one first waits for it here.
        self._embed_lock = threading.Lock()
        self._llm_lock = threading.Lock()
        self._preloading: threading.Thread | None = None
        # How long each model took to load, reported in the timings of the answer that
        # came after (`load_embed_ms`, `load_llm_ms`), then forgotten (`take_load_ms`).
        self._load_ms: dict[str, float] = {}
        self._judge: tuple[Any, Judge] | None = None
        self._scorer: Scorer | None = None
        self.shared: Shared | None = None  # set by a server before anything loads

    def _load(self, key: Hashable, load: Callable[[], T], timing: str | None = None) -> T:
        """`load()`, or the shared model under `key`; its time kept under `timing` when
        this call loaded it."""
        started = time.perf_counter()
        value, loaded = self.shared.get(key, load) if self.shared else (load(), True)
        if loaded and timing and value is not None:
            self._load_ms[timing] = ms(started, time.perf_counter())
        return value

    # -- embedding -----------------------------------------------------------------

    @property
    def embed_name(self) -> str:
        """The embedding in use: given or named, else the index's, else e5."""
        if self.settings.embed:
            return self._given.name if self._given else canonical_name(self.settings.embed)
        info = self.store.info() if self.store.exists() else None
        return info.embed if info else DEFAULT_EMBED

    def embedding(self) -> EmbeddingModel:
        """The embedding model, loaded on first use (or waited for, when `preload` is
        loading it)."""
        with self._embed_lock:
            if self._model is None:
                # Refuse a mismatched index before paying for loading the wrong model.
                if self.store.exists():
                    self.store.check_model(self.embed_name)
                s, name = self.settings, self.embed_name
                self._model = self._load(
                    ("embed", name, s.device, s.threads, s.batch_size, s.processes),
                    lambda: load_embedding(
                        name,
                        device=s.device,
                        threads=s.threads,
                        batch_size=s.batch_size,
                        processes=s.processes,
                    ),
                    "load_embed_ms",
                )
            return self._model

    def companion_query(self, question: str) -> list[float] | None:
        """The question under the index's companion model, when the index has one."""
        info = self.store.info()
        if info is None or not info.companion:
            return None
        if self._second is None:
            name, threads = info.companion, self.settings.threads
            self._second = self._load(
                ("companion", name, threads), lambda: load_embedding(name, threads=threads)
            )
        return self._second.query(question[:QUESTION_CHARS])

    # -- generator -----------------------------------------------------------------

    @property
    def llm(self) -> Any:
        """The generator (a llama-index LLM), or None: extractive answers."""
        with self._llm_lock:
            if not self._llm_loaded:
                self._llm_loaded = True
                s = self.settings
                # Everything `load_llm` reads: assistants that differ only elsewhere share one.
                key: tuple[object, ...] = (s.llm, s.runtime, s.llm_model, s.llm_base_url)
                key += (s.llm_api_key, s.model_dir, s.max_tokens, s.context_window, s.threads)
                try:
                    self._llm = self._load(("llm", key), lambda: load_llm(s), "load_llm_ms")
                except LLMUnavailable as e:
                    self.quote_instead(e)
            return self._llm

    @llm.setter
    def llm(self, llm: Any) -> None:
        with self._llm_lock:
            self._llm, self._llm_loaded = llm, True
            self.llm_name = type(llm).__name__ if llm is not None else "none"

    def quote_instead(self, reason: object) -> None:
        """Tell the user why answers are quoted sentences from now on: `reason`, a
        generator that could not load or failed to answer."""
        self.notices.append(f"{reason} Answering with quoted sentences instead.")

    @property
    def llm_loaded(self) -> bool:
        """Whether the generator is set, or its loading has begun."""
        return self._llm_loaded

    @property
    def llm_loading(self) -> bool:
        """Whether the generator is being loaded (or set) now: reading `llm` waits."""
        return self._llm_lock.locked()

    # -- all of them ---------------------------------------------------------------

    def preload(self) -> None:
        """Start loading the models in the background, the generator included (see
        `Assistant.preload`). Calling it again does nothing."""
        if self._preloading is not None:
            return
        # The index is opened here, in the caller's thread: the loader only reads what
        # it opened.
        self.embed_name  # noqa: B018

        def load() -> None:
            try:
                self.embedding()
                self.judge_for(self.llm)
            except Exception:  # noqa: BLE001, S110
                # The answer path meets the same failure, and reports it.
                pass

        # Not a daemon: the interpreter must not exit while llama.cpp is loading.
        self._preloading = threading.Thread(target=load, name="qa-preload")
        self._preloading.start()

    def judge_for(self, llm: Any) -> Judge | None:
        """The judge: the scorer, with the generator as a second reader when it is the
        local model (remote ones expose no token probabilities). None for indexes of
        other embedding models than e5, which the scorer was not fitted on."""
        if self.embed_name != "e5":
            return None
        if self._scorer is None:
            self._scorer = Scorer.load()
        if self._judge is None or self._judge[0] is not llm:
            self._judge = (llm, Judge.reading_with(self._scorer, llm, self.prompts.render))
        return self._judge[1]

    def take_load_ms(self) -> dict[str, float]:
        """The load timings since the last call (`load_embed_ms`, `load_llm_ms`), which
        the next answer reports; they are forgotten here."""
        taken, self._load_ms = self._load_ms, {}
        return taken
