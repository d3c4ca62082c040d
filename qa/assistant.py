"""The engine behind every way in: `Assistant` (ingest, search, ask) and `Chat`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from qa.answer import cite, select_sentences
from qa.config import DEFAULT_EMBED, Settings, load_settings
from qa.embeddings import EmbeddingModel, canonical_name, load_embedding
from qa.ingest import Progress, ingest_paths
from qa.language import detect_language
from qa.prompts import Prompts
from qa.store import Store
from qa.types import Answer, DocumentInfo, IngestReport, Passage

# How much the previous turn weighs in a follow-up's retrieval: enough to resolve
# "he" or "and Breuker?", little enough that a new topic still wins.
_HISTORY_WEIGHT = 0.5


class Assistant:
    """Question answering over one index of articles.

    >>> qa = Assistant(index_dir="index")        # doctest: +SKIP
    >>> qa.ingest(["seeds/"]).summary()          # doctest: +SKIP
    >>> print(qa.ask("Why would Kim meet Putin in person?").text)   # doctest: +SKIP

    Without `embed`, an existing index opens with the model that built it, a new one
    with e5. Nothing is loaded until it is needed.
    """

    def __init__(
        self,
        index_dir: str | Path | None = None,
        embed: str | None = None,
        *,
        chroma_url: str | None = None,
        settings: Settings | None = None,
    ):
        base = settings if settings is not None else load_settings()
        self.settings = base.with_overrides(
            index_dir=Path(index_dir) if index_dir is not None else None,
            embed=canonical_name(embed) if embed else None,
            chroma_url=chroma_url,
        )
        self.store = Store(
            self.settings.index_dir, self.settings.collection, self.settings.chroma_url
        )
        self.prompts = Prompts(self.settings.resolved_prompts_dir())
        self._model: EmbeddingModel | None = None

    # -- models --------------------------------------------------------------------

    @property
    def embed_name(self) -> str:
        """The embedding this assistant uses: asked for, else the index's, else the default."""
        if self.settings.embed:
            return canonical_name(self.settings.embed)
        info = self.store.info() if self.store.exists() else None
        return info.embed if info else DEFAULT_EMBED

    def _embedding(self) -> EmbeddingModel:
        if self._model is None:
            s = self.settings
            self._model = load_embedding(
                self.embed_name, device=s.device, threads=s.threads, batch_size=s.batch_size
            )
        return self._model

    def _floor(self, question_lang: str) -> Callable[[Passage], float]:
        """The relevance floor for a passage, given the question's language."""
        model = self._embedding()
        base = self.settings.min_score if self.settings.min_score is not None else model.min_score
        shift = model.same_language_shift
        return lambda p: base + shift if p.lang == question_lang else base

    # -- ingest --------------------------------------------------------------------

    def ingest(
        self, paths: Iterable[str | Path], on_progress: Progress | None = None
    ) -> IngestReport:
        """Add or update the articles under `paths`; unchanged ones are skipped."""
        if self.store.exists():
            self.store.check_model(self.embed_name)
        return ingest_paths(
            [Path(p) for p in paths],
            self.store,
            self._embedding(),
            self.settings.chunk_words,
            self.settings.batch_size,
            on_progress,
        )

    def ensure_seeded(self, on_progress: Progress | None = None) -> IngestReport | None:
        """Ingest the shipped seed articles into an empty index, so a first question works."""
        if self.store.exists() and self.store.committed_hashes():
            return None
        seeds = self.settings.resolved_seeds_dir()
        if seeds is None:
            return None
        return self.ingest([seeds], on_progress)

    def documents(self) -> list[DocumentInfo]:
        """The documents in the index, oldest first."""
        return self.store.documents() if self.store.exists() else []

    def remove(self, doc_id: str) -> bool:
        """Remove a document and its passages; False when no document has that id."""
        return self.store.exists() and self.store.remove(doc_id)

    def passages_of(self, doc_id: str) -> list[Passage]:
        """Every passage of a document, in reading order."""
        return self.store.document_text(doc_id)

    # -- questions -----------------------------------------------------------------

    def _query_vector(self, question: str, context: np.ndarray | None) -> np.ndarray:
        vector = np.asarray(self._embedding().query(question), dtype=np.float32)
        if context is not None:
            vector = (vector + _HISTORY_WEIGHT * context).astype(np.float32)
            vector /= np.linalg.norm(vector)
        return vector

    def _search(self, vector: np.ndarray, k: int) -> list[Passage]:
        self.store.check_model(self.embed_name)
        return self.store.search([float(x) for x in vector], k)

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        """The `k` passages closest to `question`, best first, with cosine scores."""
        return self._search(self._query_vector(question, None), k or self.settings.k)

    def ask(self, question: str) -> Answer:
        """Answer from the retrieved passages, each sentence cited; abstain when none fits."""
        return self._answer(question, None)

    def chat(self) -> Chat:
        """A conversation: follow-up questions are retrieved with the previous turns in mind."""
        return Chat(self)

    def _answer(self, question: str, context: np.ndarray | None) -> Answer:
        t0 = time.perf_counter()
        vector = self._query_vector(question, context)
        t1 = time.perf_counter()
        passages = self._search(vector, self.settings.k)
        t2 = time.perf_counter()
        lang = detect_language(question)
        selected = select_sentences(
            vector,
            passages,
            self._embedding().passages,
            self._floor(lang),
            self.settings.answer_sentences,
        )
        t3 = time.perf_counter()
        timings = {
            "embed_ms": round((t1 - t0) * 1000, 1),
            "retrieve_ms": round((t2 - t1) * 1000, 1),
            "answer_ms": round((t3 - t2) * 1000, 1),
            "total_ms": round((t3 - t0) * 1000, 1),
        }
        if not selected:
            text = self.prompts.render("no_answer", lang, question=question.strip())
            return Answer(question, text, True, (), tuple(passages), timings)
        text, citations = cite(selected)
        return Answer(question, text, False, citations, (), timings)


class Chat:
    """A conversation with an `Assistant`. `reset()` forgets the previous turns."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.history: list[Answer] = []
        self._context: np.ndarray | None = None

    def ask(self, question: str) -> Answer:
        answer = self.assistant._answer(question, self._context)
        self._context = self.assistant._query_vector(question, self._context)
        self.history.append(answer)
        return answer

    @property
    def last(self) -> Answer | None:
        return self.history[-1] if self.history else None

    def reset(self) -> None:
        self.history.clear()
        self._context = None
