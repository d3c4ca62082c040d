"""The engine behind every way in: `Assistant` (ingest, search, ask) and `Chat`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa import commit, retrieve
from qa.answer import SentenceCache, score_sentences
from qa.config import Settings, load_settings
from qa.embeddings import COMPANIONS, EmbeddingModel, canonical_name
from qa.fusion import latest_first, names_it
from qa.ingest import Notice, Progress, ingest_paths
from qa.intent import asks_after_news
from qa.interface import Words, words
from qa.language import detect_language
from qa.lexical import anchors, lead_name
from qa.models import QUESTION_CHARS, Models
from qa.prompts import Prompts
from qa.respond import Answering, Question, Tools, condense, ms
from qa.scripts import scripted_words
from qa.store import IndexInfo, Store
from qa.types import Answer, DocumentInfo, Filters, IngestReport, Passage

# How much the previous turn weighs in a follow-up's retrieval when no generator can
# rewrite the question: enough to resolve "and Breuker?", little enough for a new topic.
_HISTORY_WEIGHT = 0.5
_CACHE = 4096
# A question after the latest news ranks by date the passages this close to the best
# one's cosine (language-fair): chosen on half the subjects of bench/data/latest.
_SUBJECT_MARGIN = 0.08


class AnswerStream:
    """The tokens of an answer as they are generated; `.answer` once they are all read.

    The streamed text is the model's draft; `.answer` is the verified answer, whose
    sentences and markers may differ from the draft. Nothing runs until the stream is
    read: set `on_stage` first to hear what qa is doing before the first token comes
    ("loading the model", "rewriting the question", "searching", "reading the
    passages", "writing", then "checking" once the draft is written). Once the search
    ran, `vector` is the query vector it used: a conversation's next turn weighs it in
    (`Assistant.ask_stream`'s `context`).
    """

    def __init__(self, tokens: Iterator[str], finish: Callable[[], Answer]):
        self._tokens = tokens
        self._finish = finish
        self._answer: Answer | None = None
        self.on_stage: Callable[[str], None] | None = None
        self.vector: np.ndarray | None = None

    def stage(self, name: str) -> None:
        if self.on_stage is not None:
            self.on_stage(name)

    def __iter__(self) -> Iterator[str]:
        yield from self._tokens
        self._answer = self._finish()

    @property
    def answer(self) -> Answer:
        if self._answer is None:
            for _ in self:
                pass
        assert self._answer is not None
        return self._answer


class Assistant:
    """Question answering over one index of articles.

    >>> qa = Assistant(index_dir="index")        # doctest: +SKIP
    >>> qa.ingest(["seeds/"]).summary()          # doctest: +SKIP
    >>> print(qa.ask("Why would Kim meet Putin in person?").text)   # doctest: +SKIP

    Without `embed`, an existing index opens with the model that built it, a new one
    with e5. `embed` names a model (`qa.embeddings`), or is one already loaded (an
    `EmbeddingModel`: the index records its `name`). Nothing is loaded until it is needed
    (`models`, a `qa.models.Models`).
    """

    def __init__(
        self,
        index_dir: str | Path | None = None,
        embed: str | EmbeddingModel | None = None,
        *,
        llm: str | None = None,
        chroma_url: str | None = None,
        settings: Settings | None = None,
    ):
        base = settings if settings is not None else load_settings()
        given = embed if isinstance(embed, EmbeddingModel) else None
        if isinstance(embed, str):
            embed = canonical_name(embed) if embed else None
        self.settings = base.with_overrides(
            index_dir=Path(index_dir) if index_dir is not None else None,
            embed=embed.name if isinstance(embed, EmbeddingModel) else embed,
            chroma_url=chroma_url,
            llm=llm,
        )
        s = self.settings
        self.store = Store(s.index_dir, s.collection, s.chroma_url, s.server_timeout)
        self.prompts = Prompts(self.settings.resolved_prompts_dir())
        self.models = Models(self.settings, self.store, self.prompts, given)
        # Passage-side sentence vectors: follow-ups reuse the same passages.
        self._sentences = SentenceCache(
            lambda texts: self.models.embedding().passages(texts), _CACHE
        )

    # -- models --------------------------------------------------------------------

    @property
    def embed_name(self) -> str:
        """The embedding this assistant uses: given or named, else the index's, else e5."""
        return self.models.embed_name

    @property
    def notices(self) -> list[str]:
        """What the caller should tell the user (a generator that could not load), to be
        cleared once told."""
        return self.models.notices

    @property
    def llm(self) -> Any:
        """The generator (a llama-index LLM), or None: extractive answers."""
        return self.models.llm

    @llm.setter
    def llm(self, llm: Any) -> None:
        """Answer with this llama-index LLM (any of its integrations), or None: quotes."""
        self.models.llm = llm

    def preload(self) -> None:
        """Start loading the models in the background, the generator included, so that
        a question waits for them as little as possible: a chat loads them while the
        first question is typed, `ask` while it searches. Calling it again does nothing.
        """
        self.models.preload()

    def words(self, question: str) -> Words:
        """What qa shows around an answer (stages, titles, notes) in `question`'s
        language (English where qa has no such text)."""
        return words(self.prompts, detect_language(question[:QUESTION_CHARS]))

    def _floor(
        self, question_lang: str, latest: bool = False, passages: Sequence[Passage] = ()
    ) -> Callable[[Passage], float]:
        """The relevance floor for a passage, given the question's language. For a
        question after the latest news whose passages clear it, the newest passage on
        the subject (the first) is let through: it is on the subject by its names and
        its closeness to the best, and an article in a third language scores lower."""
        model = self.models.embedding()
        base = self.settings.min_score if self.settings.min_score is not None else model.min_score
        shift = model.same_language_shift

        def floor(p: Passage) -> float:
            return base + shift if p.lang == question_lang else base

        if not latest or not any(p.score >= floor(p) for p in passages):
            return floor
        newest = passages[0]
        return lambda p: min(floor(p), p.score) if p is newest else floor(p)

    # -- ingest --------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | Path],
        on_progress: Progress | None = None,
        on_notice: Notice | None = None,
        keep_duplicates: bool = False,
    ) -> IngestReport:
        """Add or update the articles under `paths`; unchanged ones are skipped, and so
        are articles the index holds under another id (reported), unless `keep_duplicates`.

        `on_notice` hears, for instance, that another process holds the index and this
        one waits for it.
        """
        s = self.settings
        layout = IndexInfo(
            self.embed_name,
            s.chunk_words,
            s.sentence_index,
            COMPANIONS.get(self.embed_name, "") if s.companion else "",
        )
        return ingest_paths(
            [Path(p) for p in paths],
            self.store,
            self.models.embedding(),
            layout,
            s.batch_size,
            on_progress,
            on_notice,
            s.threads,
            keep_duplicates,
        )

    def documents(self) -> list[DocumentInfo]:
        """The documents in the index, oldest first."""
        return self.store.documents() if self.store.exists() else []

    def remove(self, doc_id: str) -> bool:
        """Remove a document and its passages, by its id or its file's path; False when
        no document has that id."""
        from qa.documents import doc_id_for

        if not self.store.exists():
            return False
        with self.store.write_lock():
            if commit.remove(self.store, doc_id):
                return True
            return Path(doc_id).is_file() and commit.remove(self.store, doc_id_for(Path(doc_id)))

    def passages_of(self, doc_id: str) -> list[Passage]:
        """Every passage of a document, in reading order."""
        return self.store.document_text(doc_id)

    # -- questions -----------------------------------------------------------------

    def _query_vector(self, question: str, context: np.ndarray | None) -> np.ndarray:
        vector = np.asarray(
            self.models.embedding().query(question[:QUESTION_CHARS]), dtype=np.float32
        )
        if context is not None:
            vector = (vector + _HISTORY_WEIGHT * context).astype(np.float32)
            vector /= np.linalg.norm(vector)
        return vector

    def _search(
        self,
        vector: np.ndarray,
        k: int,
        filters: Filters | None,
        question: str,
    ) -> tuple[list[Passage], retrieve.SentenceVectors, bool]:
        """Passages by fused dense and lexical rank; for a question after the latest
        news, the newest articles on its subject first, whatever their language
        (`fusion.latest_first`). Scores stay cosines (the abstention floor applies). And
        the vectors of their sentences the index holds (`SentenceCache.prefill`), and
        whether the question asks after the news of a subject it names, which the first
        passage is the newest on."""
        self.store.check_model(self.embed_name)
        query = [float(x) for x in vector]
        lang = detect_language(question)
        names = self.settings.names_weight
        second = self.models.companion_query(question)
        if not asks_after_news(question, lang, self.models.embedding(), query):
            found = retrieve.search(self.store, query, k, filters, question, lang, names, second)
            return *found, False
        pool, stored = retrieve.search(
            self.store, query, max(8 * k, 40), filters, question, lang, names, second
        )
        shift = self.models.embedding().same_language_shift

        def relevance(p: Passage) -> float:
            # A cosine across languages runs lower: the same-language shift taken off.
            return (p.score if p.score is not None else -1.0) - (shift if p.lang == lang else 0.0)

        subject, lead = anchors(question), lead_name(question)
        scripted = scripted_words(question)
        ranked = latest_first(pool, k, relevance, _SUBJECT_MARGIN, subject, lead, scripted)
        # Answered from the newest article alone when that article is what the question
        # names (a subject guessed from the passages is not enough to answer).
        named = bool(ranked) and names_it(ranked[0], subject, lead, scripted)
        return ranked, stored, named

    def search(
        self, question: str, k: int | None = None, filters: Filters | None = None
    ) -> list[Passage]:
        """The `k` passages closest to `question`, best first, with cosine scores."""
        vector = self._query_vector(question, None)
        return self._search(vector, k or self.settings.k, filters, question)[0]

    def ask(self, question: str, filters: Filters | None = None) -> Answer:
        """Answer from the retrieved passages, every sentence cited; abstain when none fits."""
        return self.ask_stream(question, filters).answer

    def ask_stream(
        self,
        question: str,
        filters: Filters | None = None,
        *,
        history: Sequence[Answer] = (),
        context: np.ndarray | None = None,
    ) -> AnswerStream:
        """Like `ask`, but yields the draft's tokens as the model writes them (nothing
        runs until the stream is read). A conversation (`Chat`) passes its previous
        answers, from which a generator rewrites a follow-up to stand alone, and the last
        turn's `AnswerStream.vector`, which weighs in the search when there is no
        rewrite, or one that resolves nothing."""
        inner: list[AnswerStream] = []

        def tokens() -> Iterator[str]:
            inner.append(self._answer_stream(question, context, list(history), filters, outer))
            yield from inner[0]

        outer = AnswerStream(tokens(), lambda: inner[0].answer)
        return outer

    def chat(self, filters: Filters | None = None) -> Chat:
        """A conversation: follow-up questions are understood with the previous turns."""
        return Chat(self, filters)

    def _answer_stream(
        self,
        question: str,
        context: np.ndarray | None,
        history: list[Answer],
        filters: Filters | None,
        outer: AnswerStream,
    ) -> AnswerStream:
        """Retrieve and score, then run the steps of `respond` on what was found; `outer`,
        the stream the caller reads, hears the stages and gets the query vector."""
        t0, stage = time.perf_counter(), outer.stage
        asked, question = question, question[:QUESTION_CHARS]
        lang = detect_language(question)
        self.preload()
        standalone = None
        rewrite_ms: dict[str, float] = {}
        if history:
            if not self.models.llm_loaded:
                stage("loading the model")
            if self.llm is not None:
                stage("rewriting the question")
                started = time.perf_counter()
                standalone = condense(
                    self.llm, self.prompts, self.models.llm_name, question, history, lang
                )
                rewrite_ms["condense_ms"] = ms(started, time.perf_counter())
                if standalone is not None:
                    context = None  # the rewrite stands alone
        stage("searching")
        t0_search = time.perf_counter()
        vector = outer.vector = self._query_vector(standalone or question, context)
        t1 = time.perf_counter()
        passages, stored, latest = self._search(
            vector, self.settings.k, filters, standalone or question
        )
        self._sentences.prefill(passages, stored)
        t2 = time.perf_counter()
        if self.models.llm_loading:
            stage("loading the model")
        llm = self.llm
        scored = score_sentences(
            vector, passages, self._sentences, self._floor(lang, latest, passages)
        )
        t3 = time.perf_counter()
        timings = {
            **rewrite_ms,
            "embed_ms": ms(t0_search, t1),
            "retrieve_ms": ms(t1, t2),
            "sentences_ms": ms(t2, t3),
        }
        timings.update(self.models.take_load_ms())
        q = Question(
            asked, question, standalone, lang, vector, passages, scored, timings, t0, t3, llm,
            stage, latest,
        )  # fmt: skip
        s = self.settings
        tools = Tools(
            self.prompts,
            self.models.llm_name,
            self._sentences,
            self._floor,
            s.answer_sentences,
            s.context_sentences,
        )
        if not scored:
            return AnswerStream(iter(()), lambda: Answering(q, tools).abstain("none"))
        steps = Answering(q, tools, self.models.judge_for(llm))
        stage("reading the passages")
        if llm is None:
            answer = steps.extractive()
            if answer is None:
                return AnswerStream(iter(()), lambda: steps.abstain("none"))
            return AnswerStream(iter([answer.text]), lambda: answer)
        if not steps.judged():
            return AnswerStream(iter(()), lambda: steps.abstain("none"))
        return AnswerStream(steps.tokens(), steps.finish)


class Chat:
    """A conversation with an `Assistant`. `reset()` forgets the previous turns."""

    def __init__(self, assistant: Assistant, filters: Filters | None = None):
        self.assistant = assistant
        self.filters = filters
        self.history: list[Answer] = []
        self._context: np.ndarray | None = None

    def ask(self, question: str) -> Answer:
        return self.ask_stream(question).answer

    def ask_stream(self, question: str) -> AnswerStream:
        stream = self.assistant.ask_stream(
            question, self.filters, history=self.history, context=self._context
        )

        def tokens() -> Iterator[str]:
            stream.on_stage = outer.on_stage
            yield from stream
            self._context = stream.vector
            self.history.append(stream.answer)

        outer = AnswerStream(tokens(), lambda: stream.answer)
        return outer

    @property
    def last(self) -> Answer | None:
        return self.history[-1] if self.history else None

    def reset(self) -> None:
        self.history.clear()
        self._context = None
